"""The permission prompt: which tool, the exact arguments, Allow once / Always / Deny; silence denies.

:class:`DialogApprover` is the window's :data:`~desktop_app.tools.approval.Approver`: it opens one
:class:`ToolPermissionDialog` per request and returns the user's decision. The dialog counts down
the request's timeout and denies when it reaches zero; closing it or pressing Escape denies too,
and Deny is the default button, so a stray Enter never allows anything. When the ToolBox withdraws
the request (the user interrupted, the call was cancelled), the dialog closes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFontDatabase
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from desktop_app.tools.approval import ApprovalRequest, Decision
from desktop_app.ui.theme import Theme


class ToolPermissionDialog(QDialog):
    """Emits ``decided(Decision)`` exactly once."""

    decided = Signal(object)

    def __init__(self, theme: Theme, request: ApprovalRequest, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.request = request
        self._decision: Decision | None = None
        self._deadline = time.monotonic() + request.timeout_s
        self.setWindowTitle("Allow a tool?")
        self.setMinimumWidth(520)
        column = QVBoxLayout(self)
        column.setContentsMargins(22, 20, 22, 18)
        column.setSpacing(10)
        title = QLabel(request.title, self)
        title.setWordWrap(True)
        title.setStyleSheet("font-size: 13pt; font-weight: 700;")
        column.addWidget(title)
        if request.description:
            about = QLabel(request.description, self)
            about.setWordWrap(True)
            about.setProperty("role", "muted")
            column.addWidget(about)
        if request.side_effecting:
            warning = QLabel("This can change things on your computer or online.", self)
            warning.setWordWrap(True)
            warning.setStyleSheet(f"color: {theme.warning}; font-weight: 600;")
            column.addWidget(warning)
        caption = QLabel("It will run with exactly these arguments:", self)
        caption.setProperty("role", "section")
        column.addWidget(caption)
        self.arguments = QPlainTextEdit(request.arguments_text, self)
        self.arguments.setReadOnly(True)
        self.arguments.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.arguments.setAccessibleName("Tool arguments")
        lines = request.arguments_text.count("\n") + 1
        self.arguments.setFixedHeight(min(260, 28 + 18 * lines))
        column.addWidget(self.arguments)
        self.countdown = QLabel(self)
        self.countdown.setProperty("role", "hint")
        column.addWidget(self.countdown)
        row = QHBoxLayout()
        row.addStretch(1)
        self.deny_button = QPushButton("Deny", self)
        self.once_button = QPushButton("Allow once", self)
        self.always_button = QPushButton("Always allow", self)
        self.always_button.setToolTip(f"Allow {request.label} from now on without asking (change it in the Tools tab)")
        self.once_button.setProperty("role", "primary")
        for button, decision in ((self.deny_button, Decision.DENY), (self.once_button, Decision.ALLOW_ONCE),
                                 (self.always_button, Decision.ALWAYS)):
            button.setAutoDefault(False)
            button.clicked.connect(lambda _checked=False, d=decision: self.decide(d))
            row.addWidget(button)
        self.deny_button.setDefault(True)
        column.addLayout(row)
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self._tick()
        self.deny_button.setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def decision(self) -> Decision | None:
        return self._decision

    def remaining_s(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    def decide(self, decision: Decision) -> None:
        """Settle the prompt (once) and close."""
        if self._decision is not None:
            return
        self._decision = decision
        self._timer.stop()
        self.decided.emit(decision)
        self.done(QDialog.DialogCode.Rejected if decision is Decision.DENY else QDialog.DialogCode.Accepted)

    def withdraw(self) -> None:
        """Close without a decision (the request was cancelled elsewhere)."""
        self._timer.stop()
        self._decision = self._decision or Decision.DENY
        self.done(QDialog.DialogCode.Rejected)

    def _tick(self) -> None:
        left = self.remaining_s()
        if left <= 0:
            self.decide(Decision.DENY)
            return
        self.countdown.setText(f"Denied automatically in {math.ceil(left)} s if you do not answer.")

    def reject(self) -> None:  # Escape
        self.decide(Decision.DENY)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        self.decide(Decision.DENY)
        super().closeEvent(event)


class DialogApprover:
    """An :data:`~desktop_app.tools.approval.Approver` that asks with :class:`ToolPermissionDialog`."""

    def __init__(self, theme: Theme, parent: QWidget | None = None,
                 on_prompt: Callable[[ToolPermissionDialog], None] | None = None) -> None:
        self.theme = theme
        self.parent = parent
        self.current: ToolPermissionDialog | None = None
        self._on_prompt = on_prompt  # told about each dialog once it is open (the window raises itself)

    async def __call__(self, request: ApprovalRequest) -> Decision:
        dialog = ToolPermissionDialog(self.theme, request, self.parent)
        answer: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        dialog.decided.connect(lambda d: None if answer.done() else answer.set_result(d))
        self.current = dialog
        dialog.open()
        if self._on_prompt is not None:
            self._on_prompt(dialog)
        try:
            return await answer
        finally:
            if dialog.decision is None:
                dialog.withdraw()
            self.current = None
            dialog.deleteLater()
