"""The Session tab's issue #20 controls, offscreen: open model ids with price or "price unknown", the
transcription picker's shutdown dates and per-model options, reasoning effort only where the model
takes it, noise reduction and speed (held while an answer plays), and the images sent as thumbnails."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, QRect, QSize, Qt, QUrl
from PySide6.QtGui import (
    QColor, QDragEnterEvent, QDropEvent, QGuiApplication, QImage, QMouseEvent, QPainter, QPixmap,
)
from PySide6.QtWidgets import QApplication, QWidget

from desktop_app.controller.states import Conn, Turn
from desktop_app.controller.view_state import TranscriptEntry, ViewState
from desktop_app.realtime.commands import IMAGE_SHORT_SIDE_PX, image_data_url, image_size, item_create, user_image_item
from desktop_app.settings.schema import Settings
from desktop_app.ui.dialogs.screen_capture import ScreenPicker, WindowRect, parse_xwininfo_tree
from desktop_app.ui.image_input import ImageInput
from desktop_app.ui.images import PNG_BUDGET_BYTES, prepare_image, target_size
from desktop_app.ui.theme import LIGHT
from desktop_app.ui.widgets.session_panel import SessionPanel
from desktop_app.ui.widgets.transcript_view import THUMBNAIL, TranscriptView
from tests.realtime.oracle import validate_client_event

pytestmark = pytest.mark.gui


@pytest.fixture
def panel(qtbot):
    widget = SessionPanel(LIGHT)
    qtbot.addWidget(widget)
    widget.resize(360, 900)
    widget.show()
    return widget


def drawing(width: int, height: int, *, noisy: bool = False) -> QImage:
    """A test picture: a white card with a blue box and dark text-like bars (or noise, like a photo)."""
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.fillRect(width // 8, height // 8, width // 3, height // 3, QColor("#4f46e5"))
    for row in range(6):
        painter.fillRect(width // 2, height // 8 + row * height // 12, width // 3, max(2, height // 40), QColor("#222"))
    painter.end()
    if noisy:  # every pixel random: no PNG compresses it, as with a photo's grain
        import random

        noise = random.Random(7).randbytes(width * height * 3)
        return QImage(noise, width, height, width * 3, QImage.Format.Format_RGB888).copy()
    return image


# --- model -----------------------------------------------------------------------------------------


def test_a_known_model_shows_its_label_and_price_an_unknown_one_says_price_unknown(panel, qtbot):
    chosen = []
    panel.model_chosen.connect(chosen.append)
    panel.set_settings(Settings())
    assert panel.model_picker.price.text().startswith("GPT Realtime 2.1 · audio $32 in / $64 out")
    panel.model.setEditText("gpt-realtime-3")
    panel.model.lineEdit().editingFinished.emit()
    assert chosen == ["gpt-realtime-3"]
    assert panel.model_picker.price.text() == "gpt-realtime-3 (price unknown) · price unknown"
    panel.model.setEditText("not a model!")
    panel.model.lineEdit().editingFinished.emit()
    assert chosen == ["gpt-realtime-3"] and "Not a model id" in panel.model_picker.price.text()


def test_a_refreshed_list_keeps_known_models_first_and_adds_new_ids(panel):
    panel.set_model_choices(("gpt-realtime-2.1", "gpt-live-1", "gpt-realtime-3"),
                            ("gpt-live-transcribe", "gpt-transcribe-2"))
    items = [panel.model.itemText(i) for i in range(panel.model.count())]
    assert items == ["gpt-realtime-2.1", "gpt-live-1", "gpt-realtime-3"]
    assert "per minute" in panel.model.itemData(1, Qt.ItemDataRole.ToolTipRole)  # GPT-Live: billed by time
    assert "price unknown" in panel.model.itemData(2, Qt.ItemDataRole.ToolTipRole)
    transcription = [panel.transcription.itemData(i) for i in range(panel.transcription.count())]
    assert transcription == ["off", "gpt-live-transcribe", "gpt-transcribe-2"]


def test_refresh_button_asks_and_can_be_disabled_with_a_reason(panel, qtbot):
    with qtbot.waitSignal(panel.models_refresh_requested, timeout=1000):
        panel.model_picker.refresh.click()
    panel.model_picker.set_refresh_available(False, "Azure lists deployments, not models")
    assert not panel.model_picker.refresh.isEnabled()
    assert panel.model_picker.refresh.toolTip() == "Azure lists deployments, not models"


# --- transcription ---------------------------------------------------------------------------------


def test_retiring_transcription_models_carry_their_shutdown_date(panel):
    labels = {panel.transcription.itemData(i): panel.transcription.itemText(i) for i in range(panel.transcription.count())}
    assert labels["gpt-4o-mini-transcribe"] == "gpt-4o-mini-transcribe (shuts down 2027-02-26)"
    assert labels["whisper-1"] == "whisper-1 (shuts down 2027-02-26)"
    assert labels["gpt-live-transcribe"] == "gpt-live-transcribe"
    assert panel.transcription.itemData(1) == "gpt-live-transcribe"  # recommended first after "Off"


@pytest.mark.parametrize(("model", "shown"), [
    ("gpt-live-transcribe", {"languages", "keywords"}),
    ("gpt-transcribe", {"languages", "keywords"}),
    ("gpt-realtime-whisper", {"languages", "delay"}),  # one language, as `language`
    ("whisper-1", {"languages"}),
    ("off", set()),
])
def test_only_the_options_the_chosen_model_takes_are_offered(panel, model, shown):
    picker = panel.transcription_picker
    picker.set_settings(Settings(input_transcription_model=model))
    visible = {name for name, widget in (("languages", picker.languages), ("keywords", picker.keywords),
                                         ("delay", picker.delay)) if widget.isVisible()}
    assert visible == shown
    assert picker.retiring.isVisible() == (model == "whisper-1")
    if model == "whisper-1":
        assert "shuts down on 2027-02-26" in picker.retiring.text()


def test_transcription_options_are_emitted_as_setting_changes(panel):
    picker = panel.transcription_picker
    picker.set_settings(Settings(input_transcription_model="gpt-live-transcribe"))
    changes: list[dict] = []
    panel.transcription_options_chosen.connect(changes.append)
    picker.languages.setText("en, pt-BR")
    picker.languages.editingFinished.emit()
    picker.keywords.setText("Parley,  qasync , ")
    picker.keywords.editingFinished.emit()
    picker.languages.setText("English")
    picker.languages.editingFinished.emit()
    assert changes == [{"transcription_languages": ("en", "pt-BR")},
                       {"transcription_keywords": ("Parley", "qasync")}]
    assert "English is not a language code" in picker.problem.text()
    picker.set_settings(Settings(input_transcription_model="gpt-realtime-whisper"))
    picker.delay.setCurrentIndex(picker.delay.findData("high"))
    picker.delay.activated.emit(picker.delay.currentIndex())
    assert changes[-1] == {"transcription_delay": "high"}


# --- answers: reasoning, noise, speed --------------------------------------------------------------


@pytest.mark.parametrize(("model", "enabled"), [
    ("gpt-realtime-2.1", True), ("gpt-realtime-2", True), ("gpt-realtime-1.5", False), ("gpt-realtime-3", True),
])
def test_reasoning_effort_is_offered_only_for_models_that_may_take_it(panel, model, enabled):
    panel.set_settings(Settings(model=model))
    assert panel.answers.reasoning.isEnabled() is enabled
    efforts = [panel.answers.reasoning.itemData(i) for i in range(panel.answers.reasoning.count())]
    assert efforts == [None, "minimal", "low", "medium", "high", "xhigh"]


def test_reasoning_and_noise_choices_are_emitted(panel):
    got: list = []
    panel.reasoning_chosen.connect(lambda v: got.append(("reasoning", v)))
    panel.noise_reduction_chosen.connect(lambda v: got.append(("noise", v)))
    answers = panel.answers
    answers.reasoning.setCurrentIndex(answers.reasoning.findData("xhigh"))
    answers.reasoning.activated.emit(answers.reasoning.currentIndex())
    answers.noise.setCurrentIndex(answers.noise.findData("far_field"))
    answers.noise.activated.emit(answers.noise.currentIndex())
    answers.noise.setCurrentIndex(0)
    answers.noise.activated.emit(0)
    assert got == [("reasoning", "xhigh"), ("noise", "far_field"), ("noise", None)]
    assert [answers.noise.itemText(i) for i in range(3)] == [
        "Off", "Near field (headset)", "Far field (laptop, room)"]


def test_speed_is_sent_once_the_slider_settles_and_held_while_an_answer_plays(panel, qtbot):
    panel.set_settings(Settings(speed=1.0))
    assert panel.answers.speed_value.text() == "1.00×"
    panel.show_view(ViewState(connection=Conn.CONNECTED, turn=Turn.ASSISTANT_SPEAKING, assistant_speaking=True))
    with qtbot.waitSignal(panel.speed_chosen, timeout=2000) as blocker:
        for position in (21, 22, 23, 24, 25):  # a drag
            panel.answers.speed.setValue(position)
    assert blocker.args == [1.25]
    assert panel.answers.speed_value.text() == "1.25×"
    assert panel.answers.note.text() == "The new speed applies from the next answer."
    panel.show_view(ViewState(connection=Conn.CONNECTED, turn=Turn.LISTENING))
    assert panel.answers.note.text() == ""


def test_image_buttons_work_only_in_a_conversation(panel):
    assert not panel.screenshot.isEnabled()
    panel.show_view(ViewState(connection=Conn.CONNECTED))
    assert panel.screenshot.isEnabled() and panel.paste_image.isEnabled() and panel.file_image.isEnabled()


# --- images: preparing, previewing, sending, thumbnails --------------------------------------------


@pytest.mark.parametrize(("size", "sent"), [
    ((640, 480), (640, 480)),       # small: as it is
    ((2560, 1440), (1365, 768)),    # 1440p screenshot: short side 768
    ((4000, 1000), (2048, 512)),    # a wide strip: fit 2048 first
    ((800, 3000), (546, 2048)),
])
def test_images_are_scaled_like_the_model_sees_them_and_never_enlarged(size, sent):
    assert target_size(*size) == QSize(*sent)


def test_a_screenshot_goes_as_png_a_photo_as_jpeg_and_both_are_sdk_valid(qapp):
    shot = prepare_image(drawing(2560, 1440))
    assert shot.mime == "image/png" and image_size(shot.data, "image/png") == (1365, 768)
    assert shot.summary.startswith("1365×768 · PNG") and shot.summary.endswith("(from 2560×1440)")
    photo = prepare_image(drawing(900, 700, noisy=True))
    assert photo.mime == "image/jpeg" and len(photo.data) < PNG_BUDGET_BYTES
    assert image_size(photo.data, "image/jpeg") == (900, 700)
    for prepared in (shot, photo):
        event = item_create(user_image_item(image_data_url(prepared.data, prepared.mime)), event_id="e")
        validate_client_event(event)
    assert min(image_size(shot.data, shot.mime)) <= IMAGE_SHORT_SIDE_PX


class Sender:
    def __init__(self, item_id: str | None = "item_img_1") -> None:
        self.calls: list[tuple[bytes, str, str]] = []
        self.item_id = item_id

    def __call__(self, data: bytes, mime: str, question: str) -> str | None:
        self.calls.append((data, mime, question))
        return self.item_id


def test_a_pasted_picture_is_previewed_then_sent_with_the_question(qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    sender = Sender()
    images = ImageInput(window, sender)
    sent, problems = [], []
    images.sent.connect(lambda item_id, data: sent.append((item_id, data)))
    images.problem.connect(problems.append)
    QGuiApplication.clipboard().setImage(drawing(320, 200))
    assert images.paste()
    dialog = images.dialog
    assert dialog is not None and dialog.isVisible() and sender.calls == []  # nothing goes before Send
    assert dialog.details.text().startswith("From the clipboard · 320×200 · PNG")
    dialog.question_edit.setText("What does this say?")
    dialog.send_button.click()
    assert [(mime, q) for _, mime, q in sender.calls] == [("image/png", "What does this say?")]
    assert sent == [("item_img_1", sender.calls[0][0])] and problems == []


def test_cancel_sends_nothing_and_no_conversation_says_so(qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    sender = Sender(item_id=None)
    images = ImageInput(window, sender)
    problems: list[str] = []
    images.problem.connect(problems.append)
    images.offer(drawing(100, 80), "test").cancel_button.click()
    assert sender.calls == [] and problems == []
    images.offer(drawing(100, 80), "test").send_button.click()
    assert problems == ["Connect first: an image goes into a conversation."]
    QGuiApplication.clipboard().setText("just words")
    assert not images.paste()
    assert problems[-1] == "The clipboard holds no picture; copy an image or a screenshot first."


def test_a_dropped_image_file_is_offered_and_a_broken_one_explained(qtbot, tmp_path):
    window = QWidget()
    qtbot.addWidget(window)
    images = ImageInput(window, Sender())
    target = QWidget(window)
    images.watch(target)
    assert target.acceptDrops()
    path = tmp_path / "diagram.png"
    drawing(300, 150).save(str(path))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    # Qt delivers drag events only inside a real drag, so the filter is handed them as Qt would.
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    assert images.eventFilter(target, enter) and enter.isAccepted()
    words = QMimeData()
    words.setText("hello")
    ignored = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, words, Qt.MouseButton.LeftButton,
                              Qt.KeyboardModifier.NoModifier)
    assert not images.eventFilter(target, ignored)
    drop = QDropEvent(QPoint(5, 5).toPointF(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    assert images.eventFilter(target, drop)
    assert images.dialog is not None and images.dialog.details.text().startswith("Dropped · 300×150")
    problems: list[str] = []
    images.problem.connect(problems.append)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    images.offer_file(broken)
    assert problems and problems[0].startswith("That file cannot be sent: broken.png is not a picture")


def test_the_screen_picker_takes_a_dragged_region(qtbot):
    desktop = drawing(800, 600)
    picker = ScreenPicker(QPixmap.fromImage(desktop))
    qtbot.addWidget(picker)
    picker.show()
    with qtbot.waitSignal(picker.picked, timeout=1000) as blocker:
        qtbot.mousePress(picker, Qt.MouseButton.LeftButton, pos=QPoint(100, 75))
        qtbot.mouseRelease(picker, Qt.MouseButton.LeftButton, pos=QPoint(300, 225))
    image = blocker.args[0]
    assert (image.width(), image.height()) == (200, 150)
    assert QColor(image.pixel(50, 50)) == QColor("#4f46e5")  # the blue box starts at (100, 75)


def test_a_click_takes_the_window_under_the_pointer_and_esc_cancels(qtbot):
    desktop = QPixmap.fromImage(drawing(800, 600))
    windows = [WindowRect("Editor", QRect(400, 300, 300, 200)), WindowRect("Desktop", QRect(0, 0, 800, 600))]
    picker = ScreenPicker(desktop, windows)
    qtbot.addWidget(picker)
    picker.show()
    hover = QMouseEvent(QEvent.Type.MouseMove, QPointF(450, 350), QPointF(450, 350), Qt.MouseButton.NoButton,
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(picker, hover)  # a pointer move with no button down (QTest's needs a real cursor)
    assert picker.selection() == QRect(400, 300, 300, 200)
    with qtbot.waitSignal(picker.picked, timeout=1000) as blocker:
        qtbot.mouseClick(picker, Qt.MouseButton.LeftButton, pos=QPoint(450, 350))
    assert (blocker.args[0].width(), blocker.args[0].height()) == (300, 200)
    other = ScreenPicker(desktop, windows)
    qtbot.addWidget(other)
    other.show()
    with qtbot.waitSignal(other.cancelled, timeout=1000):
        qtbot.keyClick(other, Qt.Key.Key_Escape)


def test_xwininfo_tree_lists_titled_top_level_windows_topmost_first():
    text = (
        'xwininfo: Window id: 0x1d9 (the root window) (has no name)\n\n  Root window id: 0x1d9\n'
        '  Parent window id: 0x0 (none)\n     3 children:\n'
        '     0x1e00007 "Terminal": ("xterm" "XTerm")  800x600+0+0  +10+20\n'
        '        1 child:\n        0x1e00008 (has no name): ()  10x10+0+0  +10+20\n'
        '     0x2200003 (has no name): ()  1x1+-100+-100  +-100+-100\n'
        '     0x2400005 "Parley": ("parley" "Parley")  1200x800+0+0  +300+100\n'
    )
    assert parse_xwininfo_tree(text) == [WindowRect("Parley", QRect(300, 100, 1200, 800)),
                                         WindowRect("Terminal", QRect(10, 20, 800, 600))]


def test_a_sent_image_shows_as_a_thumbnail_in_its_bubble(qtbot):
    view = TranscriptView(LIGHT)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    png = prepare_image(drawing(1200, 800)).data
    view.show_image("item_img", png)  # before its message arrives
    view.set_entries((TranscriptEntry("item_img", "user", "What is this diagram?", final=True),
                      TranscriptEntry("item_a", "assistant", "A box and some lines.", final=True)))
    bubble = view.bubble("item_img")
    assert bubble is not None and not bubble.image.isHidden() and not bubble.label.isHidden()
    shown = bubble.image.pixmap()
    assert shown.width() <= THUMBNAIL.width() and shown.height() <= THUMBNAIL.height()
    assert (shown.width(), shown.height()) == (240, 160)
    assert view.bubble("item_a").image.isHidden()
    assert view.copy_text().startswith("You: [image 1152×768] What is this diagram?")
    view.set_entries((*view.entries(), TranscriptEntry("item_only", "user", "", final=True)))
    view.show_image("item_only", png)  # after: an image alone hides the empty text
    only = view.bubble("item_only")
    assert not only.image.isHidden() and only.label.isHidden()
