"""Writes resources/catalog/procedures.json, the bundled sample provincial catalog.

Kept as a script so the sample is reviewable as code: one entry per procedure, with the
legal basis it was compiled from. A real province replaces it through catalog sync."""

from __future__ import annotations

import json
from pathlib import Path

HT = ("HT", "Hộ tịch")
CT = ("CT", "Chứng thực")
BTXH = ("BTXH", "Bảo trợ xã hội")
DD = ("DD", "Đất đai")
TNTG = ("TNTG", "Tín ngưỡng, tôn giáo")
NCC = ("NCC", "Người có công")

HOTICH_LAW = ["Luật Hộ tịch số 60/2014/QH13", "Nghị định số 123/2015/NĐ-CP",
              "Thông tư số 04/2020/TT-BTP", "Thông tư số 85/2019/TT-BTC"]
CHUNGTHUC_LAW = ["Nghị định số 23/2015/NĐ-CP", "Thông tư số 01/2020/TT-BTP",
                 "Thông tư số 226/2016/TT-BTC"]
SAME_DAY_TEXT = ("Ngay trong ngày tiếp nhận hồ sơ; trường hợp nhận hồ sơ sau 15 giờ mà không "
                 "giải quyết được ngay thì trả kết quả trong ngày làm việc tiếp theo")
FEE_NOTE_HT = ("Mức thu do HĐND tỉnh quy định (Thông tư 85/2019/TT-BTC); giá trị ở đây là "
               "mức minh họa")


def comp(code: str, name: str, originals: int = 0, certified: int = 0, photo: int = 0,
         required: bool = True, note: str = "") -> dict:
    return {"code": code, "name": name, "originals": originals, "certified_copies": certified,
            "photocopies": photo, "required": required, "note": note}


def fee(code: str, name: str, amount: int, kind: str = "lệ phí", note: str = "") -> dict:
    return {"code": code, "name": name, "amount": amount, "kind": kind, "note": note}


def proc(code: str, name: str, field: tuple[str, str], amount: float, unit: str, text: str,
         components: list[dict], result: str, legal: list[str], fees: list[dict] | None = None,
         note: str = "") -> dict:
    return {
        "code": code, "name": name, "field_code": field[0], "field_name": field[1],
        "level": "Cấp xã",
        "time_limit": {"amount": amount, "unit": unit, "text": text},
        "fees": fees or [], "components": components, "result": result,
        "legal_basis": legal,
        "source": "Tổng hợp từ văn bản pháp luật nêu tại legal_basis; mã thủ tục theo Cơ sở "
                  "dữ liệu quốc gia về thủ tục hành chính (csdl.dichvucong.gov.vn)",
        "note": note,
    }


TK = "Tờ khai theo mẫu quy định"
ID_NOTE = "Xuất trình thẻ căn cước/CCCD để đối chiếu, không phải nộp"

PROCEDURES = [
    proc("1.001193", "Đăng ký khai sinh", HT, 0, "same_day", SAME_DAY_TEXT,
         [comp("TK", "Tờ khai đăng ký khai sinh theo mẫu", 1, note=ID_NOTE),
          comp("GCS", "Giấy chứng sinh (hoặc văn bản của người làm chứng/giấy cam đoan về "
               "việc sinh)", 1),
          comp("UQ", "Văn bản ủy quyền có chứng thực (nếu ủy quyền đăng ký)", 1,
               required=False)],
         "Giấy khai sinh (bản chính), trích lục khai sinh nếu có yêu cầu", HOTICH_LAW,
         [fee("LP-KS", "Lệ phí đăng ký khai sinh", 0,
              note="Miễn lệ phí đăng ký khai sinh đúng hạn (Luật Hộ tịch, Điều 11)")]),
    proc("1.000894", "Đăng ký kết hôn", HT, 0, "same_day",
         "Ngay sau khi nhận đủ giấy tờ theo quy định; trường hợp cần xác minh thì không quá "
         "05 ngày làm việc",
         [comp("TK", "Tờ khai đăng ký kết hôn theo mẫu (hai bên nam, nữ)", 1, note=ID_NOTE),
          comp("XNHN", "Giấy xác nhận tình trạng hôn nhân (nếu đăng ký thường trú khác nơi "
               "đăng ký kết hôn)", 1, required=False)],
         "Giấy chứng nhận kết hôn (02 bản chính)", HOTICH_LAW,
         [fee("LP-KH", "Lệ phí đăng ký kết hôn", 0,
              note="Miễn lệ phí đăng ký kết hôn trong nước (Luật Hộ tịch, Điều 11)")]),
    proc("1.000656", "Đăng ký khai tử", HT, 0, "same_day", SAME_DAY_TEXT,
         [comp("TK", "Tờ khai đăng ký khai tử theo mẫu", 1, note=ID_NOTE),
          comp("BT", "Giấy báo tử hoặc giấy tờ thay thế Giấy báo tử", 1)],
         "Trích lục khai tử (bản chính)", HOTICH_LAW,
         [fee("LP-KT", "Lệ phí đăng ký khai tử", 0,
              note="Miễn lệ phí đăng ký khai tử đúng hạn")]),
    proc("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", HT, 3, "working_days",
         "03 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ",
         [comp("TK", "Tờ khai cấp Giấy xác nhận tình trạng hôn nhân theo mẫu", 1,
               note=ID_NOTE),
          comp("LH", "Bản án/quyết định ly hôn hoặc trích lục khai tử của vợ/chồng (nếu đã "
               "từng kết hôn)", certified=1, required=False)],
         "Giấy xác nhận tình trạng hôn nhân", HOTICH_LAW,
         [fee("LP-XNHN", "Lệ phí cấp Giấy xác nhận tình trạng hôn nhân", 3000,
              note=FEE_NOTE_HT)]),
    proc("2.000635", "Cấp bản sao Trích lục hộ tịch", HT, 0, "same_day", SAME_DAY_TEXT,
         [comp("TK", "Tờ khai cấp bản sao trích lục hộ tịch theo mẫu", 1, note=ID_NOTE),
          comp("UQ", "Văn bản ủy quyền (nếu yêu cầu thay)", 1, required=False)],
         "Bản sao trích lục hộ tịch", HOTICH_LAW,
         [fee("P-BS", "Phí cấp bản sao trích lục", 8000, kind="phí",
              note="8.000 đồng/bản sao (Thông tư 281/2016/TT-BTC)")]),
    proc("1.004859", "Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch", HT, 3,
         "working_days", "03 ngày làm việc; cần xác minh thì không quá 06 ngày làm việc",
         [comp("TK", "Tờ khai đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch", 1,
               note=ID_NOTE),
          comp("GT", "Giấy tờ làm căn cứ thay đổi, cải chính, bổ sung", photo=1)],
         "Trích lục thay đổi, cải chính, bổ sung thông tin hộ tịch", HOTICH_LAW,
         [fee("LP-CC", "Lệ phí thay đổi, cải chính hộ tịch", 15000, note=FEE_NOTE_HT)]),
    proc("1.001022", "Đăng ký nhận cha, mẹ, con", HT, 3, "working_days",
         "03 ngày làm việc; cần xác minh thì không quá 05 ngày làm việc",
         [comp("TK", "Tờ khai đăng ký nhận cha, mẹ, con theo mẫu", 1, note=ID_NOTE),
          comp("CC", "Văn bản của cơ quan y tế, giám định hoặc chứng cứ chứng minh quan hệ "
               "cha, mẹ, con", 1)],
         "Trích lục đăng ký nhận cha, mẹ, con", HOTICH_LAW,
         [fee("LP-NCMC", "Lệ phí đăng ký nhận cha, mẹ, con", 15000, note=FEE_NOTE_HT)]),
    proc("1.004837", "Đăng ký giám hộ", HT, 3, "working_days", "03 ngày làm việc",
         [comp("TK", "Tờ khai đăng ký giám hộ theo mẫu", 1, note=ID_NOTE),
          comp("VB", "Văn bản cử người giám hộ (giám hộ cử)", 1)],
         "Trích lục đăng ký giám hộ", HOTICH_LAW,
         [fee("LP-GH", "Lệ phí đăng ký giám hộ", 5000, note=FEE_NOTE_HT)]),
    proc("1.004884", "Đăng ký lại khai sinh", HT, 5, "working_days",
         "05 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ",
         [comp("TK", "Tờ khai đăng ký lại khai sinh theo mẫu", 1, note=ID_NOTE),
          comp("BS", "Bản sao Giấy khai sinh hoặc giấy tờ có thông tin khai sinh", photo=1)],
         "Giấy khai sinh (bản chính)", HOTICH_LAW,
         [fee("LP-DLKS", "Lệ phí đăng ký lại khai sinh", 5000, note=FEE_NOTE_HT)]),
    proc("2.000908", "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm "
         "quyền của Việt Nam cấp hoặc chứng nhận", CT, 0, "same_day", SAME_DAY_TEXT,
         [comp("BC", "Bản chính giấy tờ, văn bản cần chứng thực", 1),
          comp("BS", "Bản sao cần chứng thực (nếu người yêu cầu tự chụp)", photo=1,
               required=False)],
         "Bản sao được chứng thực từ bản chính", CHUNGTHUC_LAW,
         [fee("P-BSBC", "Phí chứng thực bản sao (trang thứ nhất và thứ hai)", 2000, kind="phí",
              note="2.000 đồng/trang; từ trang thứ ba 1.000 đồng/trang, tối đa 200.000 "
                   "đồng/bản")]),
    proc("2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", CT, 0, "same_day",
         SAME_DAY_TEXT,
         [comp("VB", "Giấy tờ, văn bản cần chứng thực chữ ký", 1, note=ID_NOTE)],
         "Giấy tờ, văn bản được chứng thực chữ ký", CHUNGTHUC_LAW,
         [fee("P-CK", "Phí chứng thực chữ ký", 10000, kind="phí",
              note="10.000 đồng/trường hợp")]),
    proc("2.001035", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, quyền "
         "sử dụng đất và nhà ở", CT, 2, "working_days",
         "Trong ngày hoặc không quá 02 ngày làm việc kể từ ngày nhận đủ hồ sơ",
         [comp("DT", "Dự thảo hợp đồng, giao dịch", 1),
          comp("GCN", "Giấy chứng nhận quyền sử dụng đất/quyền sở hữu tài sản", photo=1,
               note="Xuất trình bản chính để đối chiếu"),
          comp("CCCD", "Giấy tờ tùy thân của các bên", photo=1)],
         "Hợp đồng, giao dịch được chứng thực", CHUNGTHUC_LAW,
         [fee("P-HD", "Phí chứng thực hợp đồng, giao dịch", 50000, kind="phí",
              note="50.000 đồng/hợp đồng, giao dịch")]),
    proc("2.000913", "Chứng thực việc sửa đổi, bổ sung, hủy bỏ hợp đồng, giao dịch", CT, 2,
         "working_days", "Trong ngày hoặc không quá 02 ngày làm việc",
         [comp("DT", "Dự thảo văn bản sửa đổi, bổ sung, hủy bỏ hợp đồng, giao dịch", 1),
          comp("HD", "Hợp đồng, giao dịch đã được chứng thực", 1)],
         "Văn bản sửa đổi, bổ sung, hủy bỏ được chứng thực", CHUNGTHUC_LAW,
         [fee("P-SD", "Phí chứng thực việc sửa đổi, bổ sung, hủy bỏ", 30000, kind="phí")]),
    proc("2.000927", "Chứng thực di chúc", CT, 2, "working_days",
         "Trong ngày hoặc không quá 02 ngày làm việc",
         [comp("DC", "Dự thảo di chúc", 1, note=ID_NOTE),
          comp("TS", "Giấy tờ chứng minh quyền sở hữu, quyền sử dụng tài sản (nếu có)",
               photo=1, required=False)],
         "Di chúc được chứng thực", CHUNGTHUC_LAW,
         [fee("P-DC", "Phí chứng thực di chúc", 50000, kind="phí")]),
    proc("2.000942", "Chứng thực văn bản từ chối nhận di sản", CT, 2, "working_days",
         "Trong ngày hoặc không quá 02 ngày làm việc",
         [comp("DT", "Dự thảo văn bản từ chối nhận di sản", 1, note=ID_NOTE)],
         "Văn bản từ chối nhận di sản được chứng thực", CHUNGTHUC_LAW,
         [fee("P-TC", "Phí chứng thực văn bản từ chối nhận di sản", 50000, kind="phí")]),
    proc("2.000815", "Cấp bản sao có chứng thực từ bản chính hợp đồng, giao dịch đã được "
         "chứng thực", CT, 2, "working_days", "Không quá 02 ngày làm việc",
         [comp("DN", "Đơn/yêu cầu cấp bản sao", 1, note=ID_NOTE)],
         "Bản sao có chứng thực hợp đồng, giao dịch", CHUNGTHUC_LAW,
         [fee("P-BSHD", "Phí cấp bản sao có chứng thực", 2000, kind="phí",
              note="2.000 đồng/trang; từ trang thứ ba 1.000 đồng/trang")]),
    proc("1.001776", "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hàng tháng, hỗ trợ "
         "kinh phí chăm sóc, nuôi dưỡng hàng tháng", BTXH, 22, "working_days",
         "Cấp xã xét duyệt, niêm yết và chuyển hồ sơ trong 15 ngày làm việc; cấp huyện thẩm "
         "định, quyết định trong 07 ngày làm việc",
         [comp("TK", "Tờ khai đề nghị trợ giúp xã hội theo mẫu (Nghị định 20/2021/NĐ-CP)", 1,
               note=ID_NOTE),
          comp("GXN", "Giấy xác nhận khuyết tật hoặc giấy tờ chứng minh đối tượng (nếu có)",
               photo=1, required=False)],
         "Quyết định hưởng trợ cấp xã hội hàng tháng của Chủ tịch UBND cấp huyện",
         ["Nghị định số 20/2021/NĐ-CP", "Nghị định số 76/2024/NĐ-CP"],
         note="Sau sắp xếp chính quyền hai cấp (07/2025), cấp xã quyết định; giữ thời hạn "
              "theo quyết định công bố của tỉnh"),
    proc("1.001699", "Xác định, xác định lại mức độ khuyết tật và cấp Giấy xác nhận khuyết "
         "tật", BTXH, 20, "working_days",
         "20 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ (Hội đồng xác định mức độ khuyết "
         "tật cấp xã)",
         [comp("DN", "Đơn đề nghị xác định mức độ khuyết tật theo mẫu", 1, note=ID_NOTE),
          comp("HS", "Giấy tờ khám bệnh, chữa bệnh, giám định y khoa (nếu có)", photo=1,
               required=False)],
         "Giấy xác nhận khuyết tật",
         ["Luật Người khuyết tật số 51/2010/QH12", "Nghị định số 28/2012/NĐ-CP",
          "Thông tư số 01/2019/TT-BLĐTBXH"]),
    proc("1.001758", "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", BTXH, 5,
         "working_days", "Cấp xã xem xét, chuyển hồ sơ; tổng thời hạn 05 ngày làm việc",
         [comp("TK", "Tờ khai đề nghị hỗ trợ chi phí mai táng theo mẫu", 1, note=ID_NOTE),
          comp("KT", "Bản sao giấy chứng tử hoặc trích lục khai tử", photo=1)],
         "Quyết định hỗ trợ chi phí mai táng", ["Nghị định số 20/2021/NĐ-CP"]),
    proc("1.003554", "Hòa giải tranh chấp đất đai", DD, 30, "calendar_days",
         "Không quá 30 ngày kể từ ngày UBND cấp xã nhận được đơn",
         [comp("DN", "Đơn yêu cầu hòa giải tranh chấp đất đai", 1, note=ID_NOTE),
          comp("GT", "Giấy tờ, tài liệu liên quan đến thửa đất tranh chấp (nếu có)", photo=1,
               required=False)],
         "Biên bản hòa giải thành hoặc hòa giải không thành",
         ["Luật Đất đai số 31/2024/QH15", "Nghị định số 102/2024/NĐ-CP"]),
    proc("1.001055", "Đăng ký hoạt động tín ngưỡng", TNTG, 15, "calendar_days",
         "15 ngày kể từ ngày nhận văn bản đăng ký hợp lệ",
         [comp("VB", "Văn bản đăng ký hoạt động tín ngưỡng (danh mục, nội dung, thời gian, "
               "địa điểm hoạt động)", 1, note=ID_NOTE)],
         "Văn bản chấp thuận hoặc ý kiến của UBND cấp xã",
         ["Luật Tín ngưỡng, tôn giáo số 02/2016/QH14", "Nghị định số 95/2023/NĐ-CP"]),
    proc("1.010805", "Xác nhận thông tin hộ tịch", HT, 3, "working_days",
         "03 ngày làm việc; cần xác minh thì không quá 05 ngày làm việc",
         [comp("TK", "Tờ khai xác nhận thông tin hộ tịch theo mẫu", 1, note=ID_NOTE)],
         "Văn bản xác nhận thông tin hộ tịch", HOTICH_LAW,
         [fee("LP-XN", "Lệ phí xác nhận thông tin hộ tịch", 0, note=FEE_NOTE_HT)]),
    proc("1.002376", "Giải quyết chế độ mai táng phí đối với cựu chiến binh", NCC, 5,
         "working_days", "Cấp xã lập danh sách, chuyển hồ sơ trong 05 ngày làm việc",
         [comp("DN", "Bản khai đề nghị hưởng chế độ mai táng phí", 1, note=ID_NOTE),
          comp("KT", "Bản sao giấy chứng tử hoặc trích lục khai tử", photo=1),
          comp("GT", "Giấy tờ chứng minh là cựu chiến binh", photo=1)],
         "Quyết định trợ cấp mai táng phí", ["Nghị định số 131/2021/NĐ-CP"]),
    proc("2.000497", "Cấp Giấy chứng nhận hoặc xác nhận sử dụng đất để làm cơ sở giải quyết "
         "chế độ (xác nhận của UBND cấp xã về nguồn gốc, thời điểm sử dụng đất)", DD, 10,
         "working_days", "10 ngày làm việc",
         [comp("DN", "Đơn đề nghị xác nhận", 1, note=ID_NOTE),
          comp("GT", "Giấy tờ liên quan đến quá trình sử dụng đất (nếu có)", photo=1,
               required=False)],
         "Văn bản xác nhận của UBND cấp xã",
         ["Luật Đất đai số 31/2024/QH15", "Nghị định số 101/2024/NĐ-CP"]),
]

CATALOG = {
    "catalog_version": "2026.11-sample",
    "province": "Tỉnh mẫu (dữ liệu minh họa)",
    "sources": [
        "Cơ sở dữ liệu quốc gia về thủ tục hành chính — https://csdl.dichvucong.gov.vn",
        "Cổng Dịch vụ công quốc gia — https://dichvucong.gov.vn",
        "Luật Hộ tịch số 60/2014/QH13; Nghị định số 123/2015/NĐ-CP; Thông tư số "
        "04/2020/TT-BTP",
        "Nghị định số 23/2015/NĐ-CP về cấp bản sao từ sổ gốc, chứng thực bản sao từ bản "
        "chính, chứng thực chữ ký và chứng thực hợp đồng, giao dịch; Thông tư số "
        "226/2016/TT-BTC (phí chứng thực)",
        "Thông tư số 85/2019/TT-BTC (lệ phí hộ tịch do HĐND tỉnh quy định); Thông tư số "
        "281/2016/TT-BTC (phí cấp bản sao trích lục)",
        "Nghị định số 20/2021/NĐ-CP (trợ giúp xã hội); Thông tư số 01/2019/TT-BLĐTBXH "
        "(xác định mức độ khuyết tật)",
        "Luật Đất đai số 31/2024/QH15; Luật Tín ngưỡng, tôn giáo số 02/2016/QH14",
    ],
    "note": "Danh mục mẫu để chạy thử và đào tạo. Mỗi tỉnh công bố danh mục TTHC cấp xã "
            "của mình (mã, thời hạn, phí, lệ phí có thể khác); danh mục thật được tải về "
            "qua đồng bộ với hệ thống một cửa của tỉnh.",
    "procedures": PROCEDURES,
}


def main() -> None:
    codes = [p["code"] for p in PROCEDURES]
    assert len(codes) == len(set(codes)), "duplicate procedure code"
    out = Path(__file__).resolve().parent.parent / "resources" / "catalog" / "procedures.json"
    out.write_text(json.dumps(CATALOG, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(PROCEDURES)} procedures -> {out}")


if __name__ == "__main__":
    main()
