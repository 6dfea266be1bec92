"""Add, edit and remove endpoint profiles: OpenAI, Azure OpenAI, a custom server, ephemeral keys.

Keys are not edited here (the key dialog does that, per profile, into the keyring); a profile only
says where to connect and how to authenticate. Every value is validated by the profile classes
themselves, and a problem is shown in one sentence under the form before anything is saved.

It looks like the app's other dialogs (a title, plain buttons, one primary action): edits to the
selected endpoint are kept when another one is selected (validated first), and Save writes them
all — there is no separate Apply. Every field shows an example of what it takes.

Every endpoint, the offline demo included, chooses its transport: WebSocket (the default) or WebRTC.
Without the optional WebRTC support the choice is there but disabled, and the form says why.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox, QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QPushButton, QSpinBox,
    QVBoxLayout, QWidget,
)

from desktop_app.settings.profiles import (
    OPENAI_REALTIME_URL, AzureProfile, CustomProfile, EphemeralProfile, LocalProfile, OpenAIProfile, Profile,
)
from desktop_app.settings.store import SettingsStore
from desktop_app.transport.webrtc_support import webrtc_unavailable

KINDS = [("openai", "OpenAI"), ("azure", "Azure OpenAI"), ("custom", "Custom server"),
         ("ephemeral", "Ephemeral key (client secret)")]
FIELDS = {  # which inputs each kind shows
    "openai": ("organization", "project"),
    "azure": ("resource", "deployment", "auth", "transcription_deployment"),
    "custom": ("url",),
    "ephemeral": ("mint_url", "ttl_s", "realtime_url"),
}
LABELS = {"organization": "Organization (optional)", "project": "Project (optional)",
          "resource": "Resource name or host", "deployment": "Deployment",
          "auth": "Authentication", "transcription_deployment": "Transcription deployment",
          "url": "WebSocket URL", "mint_url": "Token URL (empty: OpenAI's)", "ttl_s": "Secret lifetime (s)",
          "realtime_url": "Realtime URL"}
EXAMPLES = {"organization": "org-…", "project": "proj_…", "resource": "my-resource or my-resource.openai.azure.com",
            "deployment": "gpt-realtime", "transcription_deployment": "gpt-4o-transcribe",
            "url": "wss://realtime.example.com/v1/realtime", "mint_url": "https://example.com/v1/realtime/client_secrets",
            "realtime_url": OPENAI_REALTIME_URL}


class EndpointDialog(QDialog):
    """Edits ``store.settings.profiles``; the built-in offline demo is listed but not editable."""

    def __init__(self, store: SettingsStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Endpoints")
        self.setMinimumSize(640, 400)
        self.store = store
        self.profiles: list[Profile] = list(store.settings.profiles)
        self._row = -1  # the row the form shows
        self.list = QListWidget(self)
        self.list.setAccessibleName("Endpoint profiles")
        self.list.currentRowChanged.connect(self._select)
        add, remove = QPushButton("Add", self), QPushButton("Remove", self)
        add.clicked.connect(self._add)
        remove.clicked.connect(self._remove)
        self.remove_button = remove
        self.name = QLineEdit(self)
        self.kind = QComboBox(self)
        for kind, label in KINDS:
            self.kind.addItem(label, kind)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.inputs: dict[str, QWidget] = {}
        self.transport = QComboBox(self)
        self.transport.setAccessibleName("Transport")
        self.transport.addItem("WebSocket", "websocket")
        self.transport.addItem("WebRTC (Opus audio, lower bandwidth)", "webrtc")
        self.transport_note = QLabel("", self)
        self.transport_note.setWordWrap(True)
        why_not = webrtc_unavailable()
        model = self.transport.model()
        if why_not is not None and isinstance(model, QStandardItemModel):
            model.item(1).setEnabled(False)
            model.item(1).setToolTip(why_not)
            self.transport_note.setText(why_not)
        self.transport_note.setVisible(why_not is not None)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Kind", self.kind)
        form.addRow("Transport", self.transport)
        form.addRow("", self.transport_note)
        for field, label in LABELS.items():
            if field == "auth":
                auth = QComboBox(self)
                auth.addItem("API key (api-key header)", "api_key")
                auth.addItem("Microsoft Entra token (Bearer)", "entra")
                widget: QWidget = auth
            elif field == "ttl_s":
                widget = QSpinBox(self)
                widget.setRange(10, 7200)
                widget.setValue(600)
            else:
                widget = QLineEdit(self)
                widget.setPlaceholderText(EXAMPLES.get(field, ""))
            self.inputs[field] = widget
            form.addRow(label, widget)
        self.form = form
        self.problem = QLabel("", self)
        self.problem.setWordWrap(True)
        self.problem.setProperty("role", "error")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton("Save", self)
        self.save_button.setProperty("role", "primary")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        left = QVBoxLayout()
        left.addWidget(self.list)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        left.addLayout(row)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.problem)
        right.addStretch(1)
        body = QHBoxLayout()
        body.setSpacing(18)
        body.addLayout(left, 2)
        body.addLayout(right, 3)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(22, 20, 22, 18)
        outer.setSpacing(14)
        title = QLabel("Endpoints", self)
        title.setStyleSheet("font-size: 13pt; font-weight: 700;")
        outer.addWidget(title)
        outer.addLayout(body)
        outer.addLayout(buttons)
        self._refresh_list(0)

    # --- editing --------------------------------------------------------------------------------

    def _refresh_list(self, row: int) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        self.list.addItems([p.name for p in self.profiles])
        self.list.setCurrentRow(max(0, min(row, len(self.profiles) - 1)))
        self.list.blockSignals(False)
        self._show(self.list.currentRow())

    def _select(self, row: int) -> None:
        """Another endpoint chosen in the list: keep the edits of the one shown (if they are valid)."""
        if row == self._row:
            return
        if not self.apply_current(self._row):
            self.list.blockSignals(True)
            self.list.setCurrentRow(self._row)  # stay, with the problem shown, until it is fixed
            self.list.blockSignals(False)
            return
        self._show(row)

    def _show(self, row: int) -> None:
        if not 0 <= row < len(self.profiles):
            return
        self._row = row
        profile = self.profiles[row]
        editable = not isinstance(profile, LocalProfile)
        self.name.setText(profile.name)
        index = self.kind.findData(profile.kind)
        self.kind.setCurrentIndex(max(index, 0))
        self.transport.setCurrentIndex(max(self.transport.findData(profile.transport), 0))
        for field, widget in self.inputs.items():
            value = getattr(profile, field, None)
            if isinstance(widget, QLineEdit):
                widget.setText("" if value is None else str(value))
            elif isinstance(widget, QSpinBox) and value is not None:
                widget.setValue(int(value))
            elif isinstance(widget, QComboBox) and value is not None:
                widget.setCurrentIndex(max(widget.findData(value), 0))
        for widget in (self.name, self.kind, *self.inputs.values()):
            widget.setEnabled(editable)
        self.transport.setEnabled(True)  # the offline demo can be called over WebRTC too
        self.remove_button.setEnabled(editable)
        self.problem.setText("" if editable else "The offline demo is built in; only its transport can change.")
        self._kind_changed()

    def _kind_changed(self) -> None:
        shown = FIELDS.get(self.kind.currentData(), ())
        for field, widget in self.inputs.items():
            self.form.setRowVisible(widget, field in shown)

    def _add(self) -> None:
        if not self.apply_current():
            return
        taken = {p.name for p in self.profiles}
        name = next(f"Endpoint {n}" for n in range(1, 100) if f"Endpoint {n}" not in taken)
        self.profiles.append(OpenAIProfile(name=name))
        self._refresh_list(len(self.profiles) - 1)

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.profiles) and not isinstance(self.profiles[row], LocalProfile):
            del self.profiles[row]
            self._refresh_list(row)

    def build(self) -> Profile:
        """The profile the form describes; ``ValueError`` with the reason when it is not valid."""
        name = self.name.text().strip()
        if not name:
            raise ValueError("Give the endpoint a name.")
        kind = self.kind.currentData()
        text = {f: w.text().strip() for f, w in self.inputs.items() if isinstance(w, QLineEdit)}
        transport = self.transport.currentData()
        if kind == "openai":
            return OpenAIProfile(name=name, organization=text["organization"], project=text["project"],
                                 transport=transport)
        if kind == "azure":  # WebRTC: Azure's GA path /openai/v1/realtime/calls on the resource
            if not text["resource"]:
                raise ValueError("Azure needs the resource name (or its host name).")
            return AzureProfile(name=name, resource=text["resource"], deployment=text["deployment"],
                                auth=self._combo("auth").currentData(),
                                transcription_deployment=text["transcription_deployment"], transport=transport)
        if kind == "custom":
            return CustomProfile(name=name, url=text["url"], transport=transport)
        return EphemeralProfile(name=name, mint_url=text["mint_url"], ttl_s=self._spin("ttl_s").value(),
                                realtime_url=text["realtime_url"] or OPENAI_REALTIME_URL, transport=transport)

    def apply_current(self, row: int | None = None) -> bool:
        """Validate the form into the profile it shows (``row``, default the selected one); False (with
        the reason shown) if invalid."""
        row = self._row if row is None else row
        if not 0 <= row < len(self.profiles):
            return True
        if isinstance(self.profiles[row], LocalProfile):  # only its transport can change
            self.profiles[row] = dataclasses.replace(self.profiles[row], transport=self.transport.currentData())
            return True
        try:
            profile = self.build()
        except (ValueError, TypeError) as exc:
            self.problem.setText(str(exc))
            return False
        if any(p.name == profile.name for i, p in enumerate(self.profiles) if i != row):
            self.problem.setText(f"Another endpoint is already called “{profile.name}”.")
            return False
        self.profiles[row] = profile
        self.problem.setText("")
        self.list.item(row).setText(profile.name)
        return True

    def save(self) -> None:
        if not self.apply_current():
            return
        names = [p.name for p in self.profiles]
        active = self.store.settings.active_profile
        self.store.update(profiles=tuple(self.profiles),
                          active_profile=active if active in names else names[0])
        self.accept()

    def _combo(self, field: str) -> QComboBox:
        widget = self.inputs[field]
        assert isinstance(widget, QComboBox), field
        return widget

    def _spin(self, field: str) -> QSpinBox:
        widget = self.inputs[field]
        assert isinstance(widget, QSpinBox), field
        return widget
