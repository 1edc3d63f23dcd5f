"""Vietnamese for the words Qt draws itself: standard buttons, the right-click menus of
text fields and spin boxes, the file dialog, message-box details. Qt ships no Vietnamese
translation, so these would be English on the counter PC; this translator answers Qt's
own ``translate()`` calls from a table (untranslated strings fall back to Qt's English).
Month and day names in date pickers come from the Vietnamese ``QLocale``."""

from __future__ import annotations

from PySide6.QtCore import QLocale, QTranslator
from PySide6.QtWidgets import QApplication

_EDIT_MENU = {
    "&Undo": "&Hoàn tác", "&Redo": "&Làm lại", "Cu&t": "&Cắt", "&Copy": "&Sao chép",
    "&Paste": "&Dán", "Delete": "&Xóa", "Select All": "Chọn &tất cả",
}

TABLE: dict[str, dict[str, str]] = {
    "QLineEdit": _EDIT_MENU,
    "QWidgetTextControl": {**_EDIT_MENU, "Copy &Link Location": "Sao chép địa chỉ &liên kết"},
    "QAbstractSpinBox": {"&Step up": "&Tăng", "Step &down": "&Giảm",
                         "&Select All": "Chọn &tất cả"},
    "QPlatformTheme": {
        "OK": "Đồng ý", "Save": "Lưu", "Save All": "Lưu tất cả", "Open": "Mở",
        "&Yes": "&Có", "Yes to &All": "Có với &tất cả", "&No": "&Không",
        "N&o to All": "Không với tấ&t cả", "Abort": "Hủy bỏ", "Retry": "Thử lại",
        "Ignore": "Bỏ qua", "Close": "Đóng", "Cancel": "Hủy", "Discard": "Bỏ thay đổi",
        "Help": "Trợ giúp", "Apply": "Áp dụng", "Reset": "Đặt lại",
        "Restore Defaults": "Khôi phục mặc định",
    },
    "QMessageBox": {"Show Details...": "Xem chi tiết…", "Hide Details...": "Ẩn chi tiết…",
                    "OK": "Đồng ý"},
    "QFileDialog": {
        "&Look in:": "&Tìm trong:", "File &name:": "&Tên tệp:",
        "Files of &type:": "&Loại tệp:", "&Open": "&Mở", "&Save": "&Lưu",
        "&Choose": "&Chọn", "&Delete": "&Xóa", "&Rename": "Đổi &tên",
        "&New Folder": "Thư mục &mới", "New Folder": "Thư mục mới",
        "Create New Folder": "Tạo thư mục mới", "Create a New Folder": "Tạo thư mục mới",
        "All Files (*)": "Mọi tệp (*)", "All Files (*.*)": "Mọi tệp (*.*)",
        "Back": "Lùi", "Forward": "Tới", "Go back": "Quay lại", "Go forward": "Đi tới",
        "Parent Directory": "Thư mục cha", "Go to the parent directory": "Lên thư mục cha",
        "List View": "Dạng danh sách", "Detail View": "Dạng chi tiết",
        "Change to list view mode": "Xem dạng danh sách",
        "Change to detail view mode": "Xem dạng chi tiết",
        "Directories": "Thư mục", "Directory:": "Thư mục:", "Files": "Tệp",
        "Sidebar": "Thanh bên", "List of places and bookmarks": "Các nơi và dấu trang",
        "Show &hidden files": "Hiện tệp ẩ&n", "Recent Places": "Nơi mở gần đây",
        "My Computer": "Máy tính", "Computer": "Máy tính",
        "%1 already exists.\nDo you want to replace it?":
            "%1 đã có.\nCó muốn ghi đè không?",
        "%1\nFile not found.\nPlease verify the correct file name was given.":
            "%1\nKhông tìm thấy tệp.\nHãy kiểm tra lại tên tệp.",
        "%1\nDirectory not found.\nPlease verify the correct directory name was given.":
            "%1\nKhông tìm thấy thư mục.\nHãy kiểm tra lại tên thư mục.",
        "Are you sure you want to delete '%1'?": "Có chắc muốn xóa “%1”?",
        "Could not delete directory.": "Không xóa được thư mục.",
        "Save As": "Lưu thành", "Find Directory": "Chọn thư mục",
    },
    "QFileSystemModel": {"Name": "Tên", "Size": "Cỡ", "Type": "Loại",
                         "Date Modified": "Ngày sửa", "Computer": "Máy tính",
                         "My Computer": "Máy tính"},
    "QAbstractFileIconProvider": {"Folder": "Thư mục", "Drive": "Ổ đĩa", "File": "Tệp"},
    "QColorDialog": {"&OK": "Đồng ý", "&Cancel": "Hủy"},
}

LOCALE = QLocale(QLocale.Language.Vietnamese, QLocale.Country.Vietnam)


class QtVietnamese(QTranslator):
    def translate(self, context: str, source: str, disambiguation: str | None = None,
                  n: int = -1) -> str | None:  # type: ignore[override]
        return TABLE.get(context, {}).get(source)

    def isEmpty(self) -> bool:
        return False


def install(app: QApplication) -> QtVietnamese:
    """Vietnamese for Qt's own words and date names, application-wide."""
    QLocale.setDefault(LOCALE)
    translator = QtVietnamese(app)
    app.installTranslator(translator)
    return translator

