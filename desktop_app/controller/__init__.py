"""The conversation controller: joins the protocol core, the transport, the audio engine and tools,
and publishes one immutable :class:`~desktop_app.controller.view_state.ViewState` on every change."""
