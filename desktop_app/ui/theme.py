"""Colours and the application style sheet, light or dark as the system asks.

One :class:`Theme` is built at start-up from the system's colour scheme (Qt's style hints, or the
palette's lightness when the platform does not say) and passed to the widgets that paint
themselves. Fusion is the base style so the window looks the same on every desktop; the palette
and the style sheet carry Parley's own look on top.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget


@dataclass(frozen=True, slots=True)
class Theme:
    """Named colours (``#rrggbb``) for one scheme."""

    dark: bool
    window: str
    surface: str
    surface_alt: str
    border: str
    text: str
    muted: str
    accent: str
    accent_text: str
    user_bubble: str
    user_text: str
    assistant_bubble: str
    assistant: str
    assistant_text: str
    success: str
    warning: str
    danger: str
    info: str

    def state_color(self, level: str) -> str:
        """The colour of a notice level or connection mood: error/warning/info/ok/idle."""
        return {"error": self.danger, "warning": self.warning, "info": self.info,
                "ok": self.success, "idle": self.muted}.get(level, self.muted)

    def tint(self, color: str, alpha: float) -> str:
        """``color`` at ``alpha`` as an ``rgba()`` style-sheet value."""
        c = QColor(color)
        return f"rgba({c.red()}, {c.green()}, {c.blue()}, {alpha:.2f})"


LIGHT = Theme(
    dark=False, window="#f4f5f8", surface="#ffffff", surface_alt="#eceef3", border="#dfe2e8",
    text="#1d2230", muted="#687083", accent="#4f46e5", accent_text="#ffffff",
    user_bubble="#4f46e5", user_text="#ffffff", assistant_bubble="#ffffff", assistant="#0d9488",
    assistant_text="#ffffff",
    success="#16a34a", warning="#d97706", danger="#dc2626", info="#2563eb",
)
DARK = Theme(
    dark=True, window="#15171c", surface="#1e2128", surface_alt="#272b33", border="#323743",
    text="#e7e9ee", muted="#9aa2b1", accent="#818cf8", accent_text="#0f1020",
    user_bubble="#4f46e5", user_text="#ffffff", assistant_bubble="#242831", assistant="#2dd4bf",
    assistant_text="#05201c",
    success="#22c55e", warning="#f59e0b", danger="#f87171", info="#60a5fa",
)


def system_prefers_dark(app: QGuiApplication) -> bool:
    """What the desktop asks for; without an answer, judge the platform palette's window colour."""
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def palette_for(theme: Theme) -> QPalette:
    pal = QPalette()
    role = QPalette.ColorRole
    for r, color in (
        (role.Window, theme.window), (role.WindowText, theme.text), (role.Base, theme.surface),
        (role.AlternateBase, theme.surface_alt), (role.Text, theme.text), (role.Button, theme.surface),
        (role.ButtonText, theme.text), (role.Highlight, theme.accent), (role.HighlightedText, theme.accent_text),
        (role.ToolTipBase, theme.surface), (role.ToolTipText, theme.text), (role.PlaceholderText, theme.muted),
        (role.Link, theme.accent), (role.Mid, theme.border), (role.Light, theme.surface_alt),
        (role.Dark, theme.border),
    ):
        pal.setColor(r, QColor(color))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(disabled, r, QColor(theme.muted))
    return pal


def style_sheet(t: Theme) -> str:
    """The style sheet for the whole application."""
    return f"""
QMainWindow, QDialog {{ background: {t.window}; }}
QToolTip {{ background: {t.surface}; color: {t.text}; border: 1px solid {t.border}; padding: 4px 6px; }}
QPushButton, QToolButton {{
    background: {t.surface}; color: {t.text}; border: 1px solid {t.border}; border-radius: 8px;
    padding: 6px 12px; min-height: 20px;
}}
QToolButton {{ padding: 5px; }}
QPushButton:hover, QToolButton:hover {{ background: {t.surface_alt}; }}
QPushButton:focus, QToolButton:focus {{ border: 1px solid {t.accent}; }}
QPushButton:disabled, QToolButton:disabled {{ color: {t.muted}; background: {t.window}; }}
QPushButton:checked, QToolButton:checked {{ background: {t.tint(t.accent, 0.15)}; border-color: {t.accent}; }}
QPushButton[role="primary"] {{ background: {t.accent}; color: {t.accent_text}; border-color: {t.accent}; font-weight: 600; }}
QPushButton[role="primary"]:hover {{ background: {QColor(t.accent).darker(110).name()}; }}
QPushButton[role="primary"]:disabled {{ background: {t.tint(t.accent, 0.35)}; color: {t.accent_text}; }}
QPushButton[role="danger"] {{ color: {t.danger}; }}
QPushButton[role="danger"]:disabled {{ color: {t.muted}; }}
QPushButton[role="segment"] {{ border-radius: 0; padding: 6px 14px; }}
QPushButton[role="segment"][pos="first"] {{ border-top-left-radius: 8px; border-bottom-left-radius: 8px; }}
QPushButton[role="segment"][pos="last"] {{ border-top-right-radius: 8px; border-bottom-right-radius: 8px;
    border-left: none; }}
QPushButton[role="segment"]:checked {{ background: {t.accent}; color: {t.accent_text}; border-color: {t.accent}; }}
QPushButton[role="segment"]:checked:disabled {{ background: {t.tint(t.accent, 0.35)}; border-color: {t.border}; }}
QCheckBox:disabled {{ color: {t.muted}; }}
QToolButton[role="flat"] {{ border: none; background: transparent; }}
QToolButton[role="flat"]:hover {{ background: {t.surface_alt}; }}
QLineEdit, QPlainTextEdit, QSpinBox, QKeySequenceEdit QLineEdit {{
    background: {t.surface}; color: {t.text}; border: 1px solid {t.border}; border-radius: 8px;
    padding: 6px 8px; selection-background-color: {t.accent}; selection-color: {t.accent_text};
}}
QLineEdit:focus, QPlainTextEdit:focus {{ border: 1px solid {t.accent}; }}
QComboBox {{ padding: 5px 8px; min-height: 20px; }}
QComboBox:disabled {{ color: {t.muted}; background: {t.window}; border: 1px dashed {t.border}; border-radius: 6px; }}
QTabWidget::pane {{ border: none; }}
QTabBar::tab {{ background: transparent; color: {t.muted}; padding: 8px 12px; border: none;
    border-bottom: 2px solid transparent; font-weight: 600; }}
QTabBar::tab:selected {{ color: {t.text}; border-bottom: 2px solid {t.accent}; }}
QTabBar::tab:hover {{ color: {t.text}; }}
QSlider::groove:horizontal {{ height: 4px; background: {t.surface_alt}; border-radius: 2px; }}
QSlider::sub-page:horizontal {{ background: {t.accent}; border-radius: 2px; }}
QSlider::handle:horizontal {{ background: {t.surface}; border: 2px solid {t.accent}; width: 12px;
    height: 12px; margin: -6px 0; border-radius: 8px; }}
QSlider::handle:horizontal:focus {{ background: {t.accent}; }}
QSlider::sub-page:horizontal:disabled {{ background: {t.border}; }}
QSlider::handle:horizontal:disabled {{ border-color: {t.border}; }}
QScrollArea {{ border: none; background: transparent; }}
QWidget#qt_scrollarea_viewport, QWidget#transcriptBody {{ background: transparent; }}
QToolButton[role="latest"] {{ background: {t.accent}; color: {t.accent_text}; border: none; border-radius: 13px;
    padding: 4px 12px; font-weight: 600; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
QScrollBar::handle:vertical {{ background: {t.border}; border-radius: 3px; min-height: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
QCheckBox {{ spacing: 8px; }}
QFrame[role="card"] {{ background: {t.surface}; border: 1px solid {t.border}; border-radius: 12px; }}
QFrame[role="bar"] {{ background: {t.surface}; border-bottom: 1px solid {t.border}; }}
QLabel[role="muted"] {{ color: {t.muted}; }}
QLabel[role="heading"] {{ font-weight: 600; }}
QLabel[role="section"] {{ color: {t.muted}; font-size: 8.5pt; font-weight: 700; letter-spacing: 0.5px; }}
QLabel[role="value"] {{ color: {t.text}; font-family: monospace; }}
QLabel[role="hint"] {{ color: {t.muted}; font-size: 8.5pt; }}
QFrame[bubble="user"] {{ background: {t.user_bubble}; border: 1px solid {t.user_bubble}; border-radius: 14px;
    border-bottom-right-radius: 4px; }}
QFrame[bubble="user"][interim="true"] {{ background: {t.tint(t.user_bubble, 0.55)}; border-style: dashed; }}
QFrame[bubble="assistant"] {{ background: {t.assistant_bubble}; border: 1px solid {t.border}; border-radius: 14px;
    border-bottom-left-radius: 4px; }}
QFrame[bubble="assistant"][interim="true"] {{ border-style: dashed; }}
QFrame[bubble="tool"] {{ background: {t.surface_alt}; border: 1px solid {t.border}; border-radius: 10px; }}
QLabel[bubbleText="user"] {{ color: {t.user_text}; background: transparent; border: none; }}
QLabel[bubbleText="assistant"], QLabel[bubbleText="tool"] {{ color: {t.text}; background: transparent; border: none; }}
QLabel[pill] {{ border-radius: 10px; padding: 2px 10px; font-weight: 600; background: transparent;
    color: {t.muted}; border: 1px solid {t.border}; }}
QLabel[pill="user"] {{ background: {t.user_bubble}; color: #ffffff; border-color: {t.user_bubble}; }}
QLabel[pill="assistant"] {{ background: {t.assistant}; color: {t.assistant_text}; border-color: {t.assistant}; }}
QLabel[turn] {{ font-size: 11pt; font-weight: 600; color: {t.muted}; }}
QLabel[turn="user"] {{ color: {t.accent}; }}
QLabel[turn="assistant"] {{ color: {t.assistant}; }}
QLabel[turn="thinking"] {{ color: {t.warning}; }}
QLabel[turn="listening"] {{ color: {t.success}; }}
QLabel[mood] {{ font-weight: 600; }}
QLabel[mood="error"] {{ color: {t.danger}; }}
QLabel[dot] {{ font-size: 13pt; color: {t.muted}; }}
QLabel[dot="ok"] {{ color: {t.success}; }}
QLabel[dot="warning"] {{ color: {t.warning}; }}
QLabel[dot="error"] {{ color: {t.danger}; }}
QLabel[clock="warn"] {{ color: {t.warning}; }}
QPushButton[talk] {{ background: {t.accent}; color: {t.accent_text}; border: none; border-radius: 24px;
    font-size: 11pt; font-weight: 700; padding: 8px 18px; }}
QPushButton[talk="held"] {{ background: {t.danger}; color: #ffffff; }}
QPushButton[talk]:disabled {{ background: {t.surface_alt}; color: {t.muted}; }}
QPushButton[talk="hands_free"]:disabled {{ background: {t.tint(t.accent, 0.10)}; color: {t.accent}; }}
QPushButton[talk]:focus {{ border: 2px solid {t.text}; }}
"""


def restyle(widget: QWidget, **properties: object) -> None:
    """Set dynamic properties the style sheet selects on, and re-polish only ``widget``.

    Much cheaper than ``setStyleSheet`` per change, which re-parses and re-polishes a whole subtree.
    """
    changed = False
    for name, value in properties.items():
        if widget.property(name) != value:
            widget.setProperty(name, value)
            changed = True
    if changed:
        style = widget.style()
        style.unpolish(widget)
        style.polish(widget)


def apply(app: QApplication, dark: bool | None = None) -> Theme:
    """Style ``app`` for the system's scheme (or the one forced by ``dark``); returns the theme."""
    if dark is None:
        dark = system_prefers_dark(app)
    theme = DARK if dark else LIGHT
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    app.setPalette(palette_for(theme))
    app.setStyleSheet(style_sheet(theme))
    return theme
