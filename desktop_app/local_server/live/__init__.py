"""The local server's GPT-Live dialect (``/v1/live/sessions``): :class:`~.session.LiveSession` and its parts.

An independent implementation of the protocol (it imports nothing of ``desktop_app.live``, the client's
core); the ``openai`` SDK's ``openai.types.live`` unions are the oracle for both in the tests.
"""
