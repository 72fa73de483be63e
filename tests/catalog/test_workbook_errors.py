"""A faulty catalog workbook is rejected whole: every fault is listed where it is, nothing changes.

Each test loads the demo workbook, breaks it in one kind of way, and checks the exact sheet,
Excel row (header = row 1) and column of every reported fault, and that the database — already
holding the demo catalog — is exactly as it was, audit log included.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from tongban.catalog.models import Item
from tongban.catalog.workbook import COLUMNS, MAX_LISTED_PROBLEMS, WorkbookRejected
from tongban.organizations.models import Department, Division, Level

from .test_workbook import column, edited, find, get, import_demo, import_file, put, snapshot

Fault = tuple[str | None, int | None, str | None, str]


@pytest.fixture
def before(db: None) -> dict[str, Any]:
    """The demo catalog imported; the state a rejected file must leave untouched."""
    import_demo()
    return snapshot()


def rejected(path: Path, before: dict[str, Any], *, dry_run: bool = False) -> list[Fault]:
    with pytest.raises(WorkbookRejected) as failure:
        import_file(path, dry_run=dry_run)
    assert snapshot() == before
    assert failure.value.total == len(failure.value.problems)
    return [(p.sheet, p.row, p.column, str(p.message)) for p in failure.value.problems]


def in_order(faults: list[Fault]) -> list[Fault]:
    """Faults in the order a reader meets them: sheet by sheet, row by row, left to right."""
    sheets = ["部门", "事项", "材料"]
    return sorted(faults, key=lambda f: (sheets.index(f[0] or ""), f[1] or 0,
                                         [c.header for c in COLUMNS[f[0] or ""]].index(f[2] or "")))


class Rows:
    """Picks distinct rows for distinct faults, so that one fault cannot hide another."""

    def __init__(self) -> None:
        self.used: set[tuple[str, int]] = set()

    def pick(self, sheet: Worksheet, **wanted: Any) -> int:
        headers = [c.value for c in sheet[1]]
        for number, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
            row = dict(zip(headers, values, strict=False))
            if (sheet.title, number) not in self.used and all(
                    (v(row[k]) if callable(v) else row[k] == v) for k, v in wanted.items()):
                self.used.add((sheet.title, number))
                return number
        raise AssertionError(f"no free row with {wanted}")


# --- the file and its structure ---------------------------------------------------------------

def test_a_missing_sheet(tmp_path: Path, before: dict[str, Any]) -> None:
    def edit(book: Workbook) -> None:
        del book["材料"]

    assert rejected(edited(tmp_path, edit), before) == [("材料", None, None, "缺少工作表“材料”")]


def test_missing_and_duplicated_columns(tmp_path: Path, before: dict[str, Any]) -> None:
    def edit(book: Workbook) -> None:
        items = book["事项"]
        items.delete_cols(column(items, "承诺办结时限"))
        items.cell(1, items.max_column + 1).value = "事项名称"
        put(book["部门"], 1, "办公地址", "地址")

    assert rejected(edited(tmp_path, edit), before) == [
        ("部门", 1, "办公地址", "缺少列“办公地址”"),
        ("事项", 1, "事项名称", "列名“事项名称”重复"),
        ("事项", 1, "承诺办结时限", "缺少列“承诺办结时限”"),
    ]


def test_columns_are_found_by_name_not_position(tmp_path: Path, before: dict[str, Any]) -> None:
    def edit(book: Workbook) -> None:
        departments = book["部门"]
        departments.move_range("H1:H45", cols=1)  # 办公地址 one column further right
        departments.cell(1, 8).value = "备注"  # an extra column is ignored

    assert import_file(edited(tmp_path, edit)).result.changed is False


@pytest.mark.parametrize("content", [
    b"this is not a workbook",
    b"PK\x03\x04 a broken zip",
    "zip-without-workbook",
])
def test_a_file_that_is_not_a_workbook(tmp_path: Path, before: dict[str, Any],
                                       content: bytes | str) -> None:
    path = tmp_path / "catalog.xlsx"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "hello")
    assert rejected(path, before) == [
        (None, None, None, "无法读取文件：不是有效的 Excel 工作簿（.xlsx）")]


# --- cells ------------------------------------------------------------------------------------

def test_cells_of_the_wrong_type(tmp_path: Path, before: dict[str, Any]) -> None:
    rows = Rows()
    at: dict[str, int] = {}

    def edit(book: Workbook) -> None:
        items, materials = book["事项"], book["材料"]
        at["legal"] = rows.pick(items)
        put(items, at["legal"], "法定办结时限", "二十")
        at["committed"] = rows.pick(items, 承诺类别="限时办结")
        put(items, at["committed"], "承诺办结时限", 2.5)
        at["visits"] = rows.pick(items, 到现场次数=0, 必须现场办理原因=None)
        put(items, at["visits"], "到现场次数", -1)
        at["copies"] = rows.pick(materials)
        put(materials, at["copies"], "原件份数", "一份")

    assert rejected(edited(tmp_path, edit), before) == in_order([
        ("事项", at["legal"], "法定办结时限", "法定办结时限须为整数，当前为“二十”"),
        ("事项", at["committed"], "承诺办结时限", "承诺办结时限须为整数，当前为“2.5”"),
        ("事项", at["visits"], "到现场次数", "须为非负整数"),
        ("材料", at["copies"], "原件份数", "原件份数须为整数，当前为“一份”"),
    ])


def test_numbers_beyond_their_bounds(tmp_path: Path, before: dict[str, Any]) -> None:
    """Bounded in the rules: a huge limit would not fit its column (a server error on
    PostgreSQL) nor the working-day clock of the cases."""
    rows = Rows()
    at: dict[str, int] = {}

    def edit(book: Workbook) -> None:
        items, materials = book["事项"], book["材料"]
        at["limit"] = rows.pick(items, 承诺类别="限时办结")
        put(items, at["limit"], "法定办结时限", 10 ** 12)
        put(items, at["limit"], "承诺办结时限", 10 ** 12)
        at["copies"] = rows.pick(materials, 材料类型="原件")
        put(materials, at["copies"], "原件份数", 100)

    assert rejected(edited(tmp_path, edit), before) == [
        ("事项", at["limit"], "法定办结时限", "不能大于999"),
        ("事项", at["limit"], "承诺办结时限", "不能大于999"),
        ("材料", at["copies"], "原件份数", "份数不能大于99"),
    ]


def test_unknown_enumeration_values(tmp_path: Path, before: dict[str, Any]) -> None:
    rows = Rows()
    at: dict[str, int] = {}

    def edit(book: Workbook) -> None:
        items, materials = book["事项"], book["材料"]
        # A 代办服务 row: its 代办受理单位 is not blamed for the unknown 承诺类别.
        at["commitment"] = rows.pick(items, 承诺类别="代办服务")
        put(items, at["commitment"], "承诺类别", "马上办")
        at["depth"] = rows.pick(items)
        put(items, at["depth"], "网上办理深度", "Ⅴ")
        at["forms"] = rows.pick(items, 办理形式="窗口办理;网上办理")
        put(items, at["forms"], "办理形式", "窗口办理;邮寄")
        at["twice"] = rows.pick(items, 服务对象="自然人")
        put(items, at["twice"], "服务对象", "自然人；自然人")
        at["fee"] = rows.pick(items, 是否收费="否")
        put(items, at["fee"], "是否收费", "免费")
        at["unit"] = rows.pick(items, 法定时限单位="工作日")
        put(items, at["unit"], "法定时限单位", "天")
        at["type"] = rows.pick(materials)
        put(materials, at["type"], "材料类型", "扫描件")
        at["level"] = rows.pick(book["部门"], 部门名称="兰州市公安局")
        put(book["部门"], at["level"], "行使层级", "区级")

    assert rejected(edited(tmp_path, edit), before) == in_order([
        ("部门", at["level"], "行使层级", "“区级”不是有效的行使层级，可选：国家级、省级、市级、县级、乡镇级"),
        *[
            ("事项", at["commitment"], "承诺类别",
             "“马上办”不是有效的承诺类别，可选：即收即办、当日办结、限时办结、代办服务"),
            ("事项", at["unit"], "法定时限单位", "“天”不是有效的法定时限单位，可选：工作日、自然日"),
            ("事项", at["depth"], "网上办理深度", "“Ⅴ”不是有效的网上办理深度，可选：Ⅰ、Ⅱ、Ⅲ、Ⅳ"),
            ("事项", at["forms"], "办理形式", "“邮寄”不是有效的办理形式，可选：窗口办理、网上办理、快递申请"),
            ("事项", at["fee"], "是否收费", "是否收费须为“是”或“否”，当前为“免费”"),
            ("事项", at["twice"], "服务对象", "服务对象中“自然人”重复"),
        ],
        ("材料", at["type"], "材料类型", "“扫描件”不是有效的材料类型，可选：原件、复印件、原件和复印件"),
    ])


def test_blank_required_cells(tmp_path: Path, before: dict[str, Any]) -> None:
    rows = Rows()
    at: dict[str, int] = {}

    def edit(book: Workbook) -> None:
        items, materials, departments = book["事项"], book["材料"], book["部门"]
        at["division"] = rows.pick(departments)
        put(departments, at["division"], "行政区划代码", None)
        at["type"] = rows.pick(items)
        put(items, at["type"], "事项类型", "  ")
        at["name"] = rows.pick(items)
        put(items, at["name"], "事项名称", None)
        at["objects"] = rows.pick(items)
        put(items, at["objects"], "服务对象", None)
        at["result"] = rows.pick(items)
        put(items, at["result"], "审批结果名称", None)
        at["code"] = rows.pick(materials)
        put(materials, at["code"], "实施编码", None)
        at["copies"] = rows.pick(materials)
        put(materials, at["copies"], "复印件份数", None)

    assert rejected(edited(tmp_path, edit), before) == in_order([
        ("部门", at["division"], "行政区划代码", "行政区划代码不能为空"),
        ("事项", at["type"], "事项类型", "事项类型不能为空"),
        ("事项", at["name"], "事项名称", "事项名称不能为空"),
        ("事项", at["objects"], "服务对象", "须填写服务对象（自然人、法人）"),
        ("事项", at["result"], "审批结果名称", "审批结果名称不能为空"),
        ("材料", at["code"], "实施编码", "实施编码不能为空"),
        ("材料", at["copies"], "复印件份数", "复印件份数不能为空"),
    ])


def test_text_longer_than_the_database_takes(tmp_path: Path, before: dict[str, Any]) -> None:
    def edit(book: Workbook) -> None:
        put(book["部门"], 3, "咨询电话", "0931-8" + "1" * 40)
        put(book["部门"], 4, "统一社会信用代码", "1" * 19)
        put(book["事项"], 5, "事项名称", "许" * 201)
        put(book["材料"], 6, "对应电子证照", "证" * 101)

    assert rejected(edited(tmp_path, edit), before) == [
        ("部门", 3, "咨询电话", "咨询电话不能超过40个字符（现有46个）"),
        ("部门", 4, "统一社会信用代码", "统一社会信用代码不能超过18个字符（现有19个）"),
        ("事项", 5, "事项名称", "事项名称不能超过200个字符（现有201个）"),
        ("材料", 6, "对应电子证照", "对应电子证照不能超过100个字符（现有101个）"),
    ]


# --- departments ------------------------------------------------------------------------------

def test_invalid_uscc_and_unknown_division(tmp_path: Path, before: dict[str, Any]) -> None:
    at: dict[str, Any] = {}

    def edit(book: Workbook) -> None:
        departments = book["部门"]
        at["uscc"] = find(departments, 部门名称="兰州市公安局")
        good = get(departments, at["uscc"], "统一社会信用代码")
        at["bad"] = good[:-1] + ("0" if good[-1] != "0" else "1")
        put(departments, at["uscc"], "统一社会信用代码", at["bad"])
        at["division"] = find(departments, 部门名称="兰州市民政局")
        put(departments, at["division"], "行政区划代码", "620199")

    # The items of 兰州市公安局 no longer match its code, but the fault is the department's row.
    assert rejected(edited(tmp_path, edit), before) == [
        ("部门", at["uscc"], "统一社会信用代码",
         f"统一社会信用代码“{at['bad']}”无效（须为18位且校验码正确）"),
        ("部门", at["division"], "行政区划代码", "行政区划代码“620199”不存在"),
    ]


def test_duplicate_department_names_and_codes(tmp_path: Path, before: dict[str, Any]) -> None:
    at: dict[str, Any] = {}

    def edit(book: Workbook) -> None:
        departments = book["部门"]
        at["first"] = find(departments, 部门名称="兰州市公安局")
        at["uscc"] = get(departments, at["first"], "统一社会信用代码")
        at["same_uscc"] = find(departments, 部门名称="兰州市民政局")
        put(departments, at["same_uscc"], "统一社会信用代码", at["uscc"])
        at["same_name"] = find(departments, 部门名称="兰州市残疾人联合会")
        put(departments, at["same_name"], "部门名称", "兰州市公安局")

    faults = rejected(edited(tmp_path, edit), before)

    assert [f for f in faults if f[0] == "部门"] == [
        ("部门", at["same_uscc"], "统一社会信用代码",
         f"统一社会信用代码“{at['uscc']}”与第{at['first']}行重复"),
        ("部门", at["same_name"], "部门名称", f"部门名称“兰州市公安局”与第{at['first']}行重复"),
    ]
    # Items naming the renamed department's old name now point at nothing.
    assert {f[2:] for f in faults if f[0] != "部门"} == {
        ("实施主体", "实施主体“兰州市残疾人联合会”不在“部门”表中，也不是已有部门")}


def test_a_name_held_by_another_department_in_the_database(tmp_path: Path,
                                                           before: dict[str, Any]) -> None:
    other = Department.objects.create(name="兰州市档案馆", uscc="12620100MB0000000X",
                                      division=Division.objects.get(code="620100"),
                                      level=Level.CITY)
    before = snapshot()
    at: dict[str, int] = {}

    def edit(book: Workbook) -> None:
        departments = book["部门"]
        at["row"] = find(departments, 部门名称="兰州市政务服务管理局")
        put(departments, at["row"], "部门名称", "兰州市档案馆")

    faults = rejected(edited(tmp_path, edit), before)

    assert faults[0] == ("部门", at["row"], "部门名称",
                         f"部门名称“兰州市档案馆”已被统一社会信用代码为{other.uscc}的部门使用")


def test_unknown_and_circular_parents(tmp_path: Path, before: dict[str, Any]) -> None:
    at: dict[str, int] = {}

    def edit(book: Workbook) -> None:
        departments = book["部门"]
        at["unknown"] = find(departments, 部门名称="安宁区民政局")
        put(departments, at["unknown"], "上级部门", "兰州市不存在局")
        at["city"] = find(departments, 部门名称="兰州市民政局")
        put(departments, at["city"], "上级部门", "城关区民政局")  # whose parent is 兰州市民政局
        at["district"] = find(departments, 部门名称="城关区民政局")

    assert rejected(edited(tmp_path, edit), before) == [
        ("部门", at["city"], "上级部门", "上级部门不能是本部门或其下级部门"),
        ("部门", at["district"], "上级部门", "上级部门不能是本部门或其下级部门"),
        ("部门", at["unknown"], "上级部门", "上级部门“兰州市不存在局”不在“部门”表中，也不是已有部门"),
    ]


# --- items and materials ----------------------------------------------------------------------

def test_unknown_departments_named_by_items(tmp_path: Path, before: dict[str, Any]) -> None:
    rows = Rows()
    at: dict[str, int] = {}

    def edit(book: Workbook) -> None:
        items = book["事项"]
        at["body"] = rows.pick(items)
        put(items, at["body"], "实施主体", "兰州市不存在局")
        at["unit"] = rows.pick(items, 承诺类别="代办服务")
        put(items, at["unit"], "代办受理单位", "某某街道便民服务中心")

    assert rejected(edited(tmp_path, edit), before) == [
        ("事项", at["body"], "实施主体", "实施主体“兰州市不存在局”不在“部门”表中，也不是已有部门"),
        ("事项", at["unit"], "代办受理单位",
         "代办受理单位“某某街道便民服务中心”不在“部门”表中，也不是已有部门"),
    ]


def recode(book: Workbook, row: int, code: str) -> None:
    """Give the item of sheet 事项 ``row`` another 实施编码, its material rows included."""
    old = get(book["事项"], row, "实施编码")
    put(book["事项"], row, "实施编码", code)
    materials = book["材料"]
    for number in range(2, materials.max_row + 1):
        if get(materials, number, "实施编码") == old:
            put(materials, number, "实施编码", code)


def test_duplicate_implementation_codes(tmp_path: Path, before: dict[str, Any]) -> None:
    at: dict[str, Any] = {}

    def edit(book: Workbook) -> None:
        items = book["事项"]
        at["code"] = get(items, 2, "实施编码")
        recode(book, 3, at["code"])

    assert rejected(edited(tmp_path, edit), before) == [
        ("事项", 3, "实施编码", f"实施编码“{at['code']}”与第2行重复")]


def test_materials_of_an_unknown_item(tmp_path: Path, before: dict[str, Any]) -> None:
    code = "11620100051317876B3000100119999"  # well formed, but no such item anywhere

    def edit(book: Workbook) -> None:
        put(book["材料"], 5, "实施编码", code)
        put(book["材料"], 6, "实施编码", code)

    message = f"实施编码“{code}”不在“事项”表中：材料须与其事项一同导入（事项的材料按文件整体替换）"
    assert rejected(edited(tmp_path, edit), before) == [
        ("材料", 5, "实施编码", message), ("材料", 6, "实施编码", message)]


def test_a_material_of_a_published_item_missing_from_sheet_items(
        tmp_path: Path, before: dict[str, Any]) -> None:
    """Its item's other materials would vanish from the public guide: the file is refused."""
    code = "11620100051317876B3000100113001"  # 企业设立登记, published with several materials
    current = Item.objects.get(implementation_code=code).current
    assert current is not None
    published = list(current.materials.values_list("name", flat=True))
    at: dict[str, int] = {}

    def edit(book: Workbook) -> None:
        book["事项"].delete_rows(find(book["事项"], 实施编码=code))
        materials = book["材料"]
        keep = find(materials, 实施编码=code, 材料名称="公司章程")
        for number in range(materials.max_row, 1, -1):
            if get(materials, number, "实施编码") == code and number != keep:
                materials.delete_rows(number)
        at["row"] = find(materials, 实施编码=code)
        put(materials, at["row"], "材料名称", "公司章程（修订）")

    assert len(published) > 1
    assert rejected(edited(tmp_path, edit), before) == [
        ("材料", at["row"], "实施编码",
         f"实施编码“{code}”不在“事项”表中：材料须与其事项一同导入（事项的材料按文件整体替换）")]
    current = Item.objects.get(implementation_code=code).current
    assert current is not None and current.number == 1
    assert list(current.materials.values_list("name", flat=True)) == published


def test_every_item_rule_points_at_its_cell(tmp_path: Path, before: dict[str, Any]) -> None:
    rows = Rows()
    at: dict[str, Any] = {}

    def edit(book: Workbook) -> None:
        s = book["事项"]

        def row(key: str, **wanted: Any) -> int:
            at[key] = rows.pick(s, **wanted)
            return at[key]

        put(s, row("over", 承诺类别="限时办结", 法定时限单位="工作日", 承诺时限单位="工作日"),
            "法定办结时限", 20)
        put(s, at["over"], "承诺办结时限", 30)
        working = {"法定时限单位": "工作日", "承诺时限单位": "工作日"}
        put(s, row("spot", 承诺类别="即收即办", **working), "承诺办结时限", 1)
        put(s, row("day", 承诺类别="当日办结", 法定办结时限=lambda v: v == 0 or v >= 2, **working),
            "承诺办结时限", 2)
        put(s, row("limited", 承诺类别="限时办结"), "承诺办结时限", 0)
        put(s, row("online", 网上办理深度="Ⅳ", 到现场次数=0), "到现场次数", 1)
        put(s, row("reason", 到现场次数=0, 网上办理深度="Ⅲ"), "必须现场办理原因", "须核验原件")
        put(s, row("post", 到现场次数=0, 网上办理深度="Ⅲ"), "办理形式", "窗口办理")
        put(s, row("fee", 是否收费="否"), "是否收费", "是")
        put(s, row("free", 是否收费="否"), "收费标准", "每件10元")
        phone = get(s, row("phone"), "咨询电话")
        put(s, at["phone"], "监督投诉电话", phone)
        put(s, row("proxy", 承诺类别="代办服务"), "代办受理单位", None)
        put(s, row("city_unit", 承诺类别="代办服务"), "代办受理单位", "兰州市公安局")
        put(s, row("not_proxy", 承诺类别="限时办结", 代办受理单位=None), "代办受理单位",
            "城关区政务服务中心")
        put(s, row("type", 事项类型="行政许可", 基本编码=lambda v: v[2:4] == "01"), "事项类型", "行政给付")
        # A township level digit on a city item: well formed, but not what its parts add up to.
        at["right_code"] = get(s, row("code", 行使层级="市级"), "实施编码")
        recode(book, at["code"], at["right_code"][:18] + "5" + at["right_code"][19:])
        put(s, row("level", 行使层级="市级", 实施主体="兰州市公安局"), "行使层级", "县级")
        at["level_code"] = get(s, at["level"], "实施编码")
        put(s, row("basic"), "基本编码", "6201")
        at["basic_code"] = get(s, at["basic"], "实施编码")
        at["basic_dept"] = get(s, at["basic"], "实施主体")

    faults = rejected(edited(tmp_path, edit), before)

    police = "11620100MB202820XH"
    basic_uscc = Department.objects.get(name=at["basic_dept"]).uscc
    expected = [
        (at["over"], "承诺办结时限", "承诺办结时限（30）不得超过法定办结时限（20）"),
        (at["spot"], "承诺办结时限", "即收即办事项的承诺办结时限须为0（当场办结）"),
        (at["day"], "承诺办结时限", "当日办结事项的承诺办结时限须为1个工作日"),
        (at["limited"], "承诺办结时限", "限时办结和代办服务事项的承诺办结时限至少为1"),
        (at["online"], "到现场次数", "全程网办（Ⅳ）事项的到现场次数须为0"),
        (at["online"], "必须现场办理原因", "到现场次数不为0时须说明必须现场办理的原因"),
        (at["reason"], "必须现场办理原因", "到现场次数为0时不应填写必须现场办理原因"),
        (at["post"], "办理形式", "零跑动且不能网上办理的事项须提供快递申请"),
        (at["fee"], "收费标准", "收费事项须填写收费标准"),
        (at["fee"], "收费依据", "收费事项须填写收费依据"),
        (at["free"], "是否收费", "不收费的事项不应填写收费标准或收费依据"),
        (at["phone"], "监督投诉电话", "监督投诉电话不能与咨询电话相同"),
        (at["proxy"], "代办受理单位", "代办服务事项须指明代办受理单位"),
        (at["city_unit"], "代办受理单位", "代办受理单位须为乡镇级或县级部门"),
        (at["not_proxy"], "代办受理单位", "只有代办服务事项才能填写代办受理单位"),
        (at["type"], "基本编码", "基本编码第3–4位“01”与事项类型“行政给付”（代码05）不符"),
        (at["code"], "实施编码",
         f"实施编码应为实施主体统一社会信用代码+行使层级代码+基本编码，即“{at['right_code']}”"),
        (at["level"], "实施编码",
         f"实施编码应为实施主体统一社会信用代码+行使层级代码+基本编码，即“{police}4{at['level_code'][19:]}”"),
        (at["level"], "行使层级", "行使层级与实施主体“兰州市公安局”的层级（市级）不一致"),
        (at["basic"], "实施编码",
         f"实施编码应为实施主体统一社会信用代码+行使层级代码+基本编码，即“{basic_uscc}{at['basic_code'][18]}6201”"),
        (at["basic"], "基本编码", "基本编码须为12位数字：前2位为00（国家）或省份代码，第3–4位为事项类型代码"),
    ]
    assert faults == in_order([("事项", row, col, message) for row, col, message in expected])


def test_every_material_rule_points_at_its_cell(tmp_path: Path, before: dict[str, Any]) -> None:
    rows = Rows()
    at: dict[str, int] = {}

    def edit(book: Workbook) -> None:
        s = book["材料"]
        at["original"] = rows.pick(s, 材料类型="原件")
        put(s, at["original"], "原件份数", 0)
        at["copy"] = rows.pick(s, 材料类型="复印件")
        put(s, at["copy"], "原件份数", 1)
        at["both"] = rows.pick(s, 材料类型="原件")
        put(s, at["both"], "材料类型", "原件和复印件")
        at["name"] = rows.pick(s)
        put(s, at["name"], "材料名称", " ")

    assert rejected(edited(tmp_path, edit), before) == in_order([
        ("材料", at["original"], "原件份数", "材料类型为原件时，原件份数至少为1、复印件份数为0"),
        ("材料", at["copy"], "复印件份数", "材料类型为复印件时，复印件份数至少为1、原件份数为0"),
        ("材料", at["both"], "原件份数", "材料类型为原件和复印件时，两种份数都至少为1"),
        ("材料", at["name"], "材料名称", "材料名称不能为空"),
    ])


def test_every_material_row_of_an_item_missing_from_sheet_items_is_reported(
        tmp_path: Path, before: dict[str, Any]) -> None:
    at: dict[str, Any] = {}

    def edit(book: Workbook) -> None:
        at["code"] = code = get(book["事项"], 2, "实施编码")
        book["事项"].delete_rows(2)
        materials = book["材料"]
        at["rows"] = [n for n in range(2, materials.max_row + 1)
                      if get(materials, n, "实施编码") == code]

    faults = rejected(edited(tmp_path, edit), before)
    assert len(at["rows"]) > 1
    assert faults == [("材料", row, "实施编码",
                       f"实施编码“{at['code']}”不在“事项”表中：材料须与其事项一同导入（事项的材料按文件整体替换）")
                      for row in at["rows"]]


def test_faults_in_every_sheet_are_all_listed_in_order(tmp_path: Path,
                                                       before: dict[str, Any]) -> None:
    def edit(book: Workbook) -> None:
        put(book["材料"], 2, "必要性", "可选")
        put(book["事项"], 9, "承诺类别", None)
        put(book["事项"], 4, "到现场次数", "两次")
        put(book["部门"], 7, "行政区划代码", "000000")

    faults = rejected(edited(tmp_path, edit), before, dry_run=True)

    assert [f[:3] for f in faults] == [
        ("部门", 7, "行政区划代码"), ("事项", 4, "到现场次数"), ("事项", 9, "承诺类别"),
        ("材料", 2, "必要性")]


def test_a_huge_number_of_faults_is_capped(tmp_path: Path, before: dict[str, Any]) -> None:
    def edit(book: Workbook) -> None:
        s = book["材料"]
        for row in range(2, s.max_row + 1):
            put(s, row, "原件份数", "x")

    with pytest.raises(WorkbookRejected) as failure:
        import_file(edited(tmp_path, edit))

    assert snapshot() == before
    assert (failure.value.total, len(failure.value.problems)) == (1201, MAX_LISTED_PROBLEMS)
    assert failure.value.unlisted == 201
    first, last = failure.value.problems[0], failure.value.problems[-1]
    assert (first.sheet, first.row, first.column) == ("材料", 2, "原件份数")
    assert (last.sheet, last.row, last.column) == ("材料", 1001, "原件份数")
