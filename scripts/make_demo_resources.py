"""Write the demo city's data resource workbook, ``src/tongban/demo/data/demo-resources.xlsx``.

Deterministic: the same inputs give the same bytes. The 数据元 sheet is the elements part's demo
dictionary, ``src/tongban/exchange/data/demo-elements.csv`` (one source; ``--elements`` reads
another copy); the 资源目录 and 信息项 sheets are written from the specifications below: the six
resources every part of the data layer shares (exact codes, providers and data item keys),
hand-written resources of the demo departments, and per department its 行政许可信息 and 行政处罚信息
(双公示, open data without personal information) and 政务服务办件信息.

Run: ``PYTHONPATH=src python scripts/make_demo_resources.py`` (with the project's environment).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ELEMENTS = ROOT / "src/tongban/exchange/data/demo-elements.csv"
TARGET = ROOT / "src/tongban/demo/data/demo-resources.xlsx"

FOOD_LICENCE = "11620100051317876B3000100139001"  # 食品经营许可（新办）

# code prefix → provider
DEPARTMENTS = {
    "GA": "兰州市公安局", "SC": "兰州市市场监督管理局", "RS": "兰州市人力资源和社会保障局",
    "ZJ": "兰州市住房和城乡建设局", "ZR": "兰州市自然资源局", "MZ": "兰州市民政局",
    "WJ": "兰州市卫生健康委员会", "JY": "兰州市教育局", "JT": "兰州市交通运输局",
    "ST": "兰州市生态环境局", "CG": "兰州市城市管理委员会", "WL": "兰州市文化和旅游局",
    "SW": "兰州市商务局", "NY": "兰州市农业农村局", "SL": "兰州市水务局",
    "YB": "兰州市医疗保障局", "TY": "兰州市退役军人事务局", "YJ": "兰州市应急管理局",
    "SF": "兰州市司法局", "SWJ": "兰州市税务局", "GJJ": "兰州市住房公积金管理中心",
    "CL": "兰州市残疾人联合会", "LC": "兰州市林业和草原局", "XF": "兰州市消防救援支队",
    "ZW": "兰州市政务服务管理局", "DSJ": "兰州市大数据管理局",
}
SHORT = {"兰州市住房公积金管理中心": "住房公积金", "兰州市残疾人联合会": "残联",
         "兰州市消防救援支队": "消防"}

# One resource: code, name, classification, category code, share type, share method, open
# type, update cycle, items ("key:DE00001", "*" before the key: subject, "!" after: source,
# "=名称" at the end: the item's name when not the element's),
# summary, extras (share_condition, share_basis, endpoint_url, related_items, …).
R = tuple[str, str, str, str, str, str, str, str, list[str], str, dict[str, object]]
COND = "用于依法履行职责和办理政务服务事项，按授权的信息项和用途使用"

SHARED: list[R] = [
    ("LZ-GA-0001", "户籍人口基本信息", "基础信息资源", "101001", "有条件共享", "库表", "不予开放",
     "每日", ["*id_number:DE00002!", "name:DE00001!", "sex:DE00003!", "birth_date:DE00004!",
            "ethnicity:DE00005!", "address:DE00006!"],
     "全市户籍人口的公民身份号码、姓名、性别、出生日期、民族和户籍地址",
     {"share_condition": COND, "related_items": [FOOD_LICENCE]}),
    ("LZ-SC-0001", "企业登记信息", "基础信息资源", "102001", "无条件共享", "库表", "不予开放",
     "实时", ["*uscc:DE00021!", "company_name:DE00020!", "legal_representative:DE00022!",
            "registered_capital:DE00023!", "address:DE00024!", "established_on:DE00025!",
            "business_scope:DE00026!", "company_type:DE00027!"],
     "在本市登记的企业的统一社会信用代码、名称、法定代表人、注册资本、住所、成立日期、经营范围和类型",
     {"related_items": [FOOD_LICENCE]}),
    ("LZ-RS-0001", "社保参保信息", "主题信息资源", "201001", "有条件共享", "接口", "不予开放",
     "实时", ["*id_number:DE00002", "name:DE00001", "insurance_status:DE00030!",
            "insurance_type:DE00031!", "insured_on:DE00032!"],
     "参保人员的参保状态、参保险种和参保日期，由人社部门接口实时提供",
     {"share_condition": COND,
      "endpoint_url": "https://data.rs.lanzhou.example/api/v1/insurance"}),
    ("LZ-ZR-0001", "不动产登记信息", "基础信息资源", "103001", "有条件共享", "库表", "不予开放",
     "每日", ["*id_number:DE00002", "name:DE00001", "certificate_number:DE00040!",
            "location:DE00041!", "floor_area:DE00042!"],
     "不动产权利人的不动产权证号、坐落和建筑面积", {"share_condition": COND}),
    ("LZ-MZ-0001", "婚姻登记信息", "主题信息资源", "203001", "有条件共享", "库表", "不予开放",
     "每日", ["*id_number:DE00002", "name:DE00001", "marital_status:DE00007",
            "married_on:DE00050!", "spouse_name:DE00051!"],
     "在本市办理婚姻登记的当事人的婚姻状况、结婚登记日期和配偶姓名", {"share_condition": COND}),
    ("LZ-WJ-0001", "出生医学证明信息", "主题信息资源", "203002", "有条件共享", "文件", "不予开放",
     "每日", ["*certificate_number:DE00060!", "baby_name:DE00061!", "sex:DE00003",
            "birth_date:DE00004", "birth_place:DE00062!", "mother_name:DE00063!",
            "mother_id_number:DE00002=母亲公民身份号码", "father_name:DE00064!"],
     "本市助产机构签发的出生医学证明的编号、新生儿和父母信息", {"share_condition": COND}),
]

PERSON = ["*id_number:DE00002", "name:DE00001"]
COMPANY = ["*uscc:DE00021", "company_name:DE00020"]

HAND: list[R] = [
    ("LZ-GA-0002", "居民身份证信息", "基础信息资源", "101002", "有条件共享", "库表", "不予开放", "每日",
     [*PERSON, "document_type:DE00009", "valid_until:DE00018!"], "居民身份证的证件类型和有效期", {}),
    ("LZ-GA-0003", "户籍家庭成员信息", "基础信息资源", "101003", "有条件共享", "库表", "不予开放",
     "每日", [*PERSON, "household_number:DE00139!", "relation:DE00138!"],
     "户籍家庭的户号和成员与户主关系", {}),
    ("LZ-GA-0004", "机动车登记信息", "主题信息资源", "205001", "有条件共享", "库表", "不予开放", "每日",
     [*PERSON, "plate_number:DE00143!", "vin:DE00144!", "owner:DE00145!",
      "vehicle_type:DE00146!", "registered_on:DE00147!"], "本市登记机动车的号牌、车辆识别代号和所有人", {}),
    ("LZ-GA-0005", "驾驶证信息", "主题信息资源", "205002", "有条件共享", "库表", "不予开放", "每日",
     [*PERSON, "licence_file:DE00148!", "vehicle_class:DE00149!", "points:DE00150!"],
     "机动车驾驶人的档案编号、准驾车型和累积记分", {}),
    ("LZ-GA-0006", "吸毒人员管控信息", "部门信息资源", "302001", "不予共享", "库表", "不予开放", "每日",
     [*PERSON, "current_address:DE00014"], "禁毒部门管控人员信息",
     {"share_basis": "《中华人民共和国禁毒法》第三十三条、《吸毒人员登记办法》：吸毒人员信息应当保密"}),
    ("LZ-GA-0007", "居住证信息", "主题信息资源", "201101", "有条件共享", "库表", "不予开放", "每日",
     [*PERSON, "current_address:DE00014!", "mobile:DE00010"], "办理居住证的流动人口的现住址", {}),
    ("LZ-SC-0002", "食品经营许可信息", "部门信息资源", "301101", "无条件共享", "库表", "无条件开放",
     "每日", [*COMPANY, "licence_number:DE00166!", "licence_scope:DE00075", "issuer:DE00076",
              "valid_from:DE00080", "valid_until:DE00081"], "食品经营许可证的编号、许可项目和有效期",
     {"related_items": [FOOD_LICENCE]}),
    ("LZ-SC-0003", "食品生产许可信息", "部门信息资源", "301102", "无条件共享", "库表", "无条件开放",
     "每日", [*COMPANY, "licence_number:DE00167!", "valid_until:DE00081"], "食品生产许可证信息", {}),
    ("LZ-SC-0004", "药品经营许可信息", "部门信息资源", "301103", "无条件共享", "库表", "无条件开放",
     "每日", [*COMPANY, "licence_number:DE00168!", "valid_until:DE00081"], "药品经营许可证信息", {}),
    ("LZ-SC-0005", "经营异常名录信息", "主题信息资源", "206001", "无条件共享", "库表", "无条件开放",
     "每日", [*COMPANY, "abnormal:DE00187!", "seriously_dishonest:DE00188!"],
     "列入经营异常名录和严重违法失信名单的市场主体", {}),
    ("LZ-SC-0006", "企业股东及出资信息", "基础信息资源", "102002", "有条件共享", "库表", "不予开放",
     "每日", [*COMPANY, "shareholder:DE00077!", "contribution:DE00086!", "method:DE00078!"],
     "企业股东名称、认缴出资额和出资方式", {}),
    ("LZ-RS-0002", "就业失业登记信息", "主题信息资源", "201002", "有条件共享", "库表", "不予开放", "每日",
     [*PERSON, "registration_number:DE00174!", "employment_status:DE00175!",
      "employer:DE00176!"], "就业失业登记证号、就业状态和工作单位", {}),
    ("LZ-RS-0003", "职业资格证书信息", "主题信息资源", "204101", "有条件共享", "库表", "不予开放", "每月",
     [*PERSON, "certificate_number:DE00177!", "qualification:DE00178!"], "职业资格证书信息", {}),
    ("LZ-RS-0004", "养老保险待遇领取信息", "主题信息资源", "201003", "有条件共享", "库表", "不予开放",
     "每月", [*PERSON, "pension:DE00038!", "retired_on:DE00039!"], "离退休人员养老金领取信息", {}),
    ("LZ-RS-0005", "社会保障卡信息", "主题信息资源", "201004", "有条件共享", "库表", "不予开放", "每日",
     [*PERSON, "card_number:DE00033!"], "社会保障卡卡号", {}),
    ("LZ-ZR-0002", "建设工程规划许可信息", "部门信息资源", "305001", "无条件共享", "库表", "无条件开放",
     "每日", ["*uscc:DE00021", "builder:DE00155!", "project:DE00153!",
              "permit_number:DE00159!", "site:DE00156!"], "建设工程规划许可证核发信息", {}),
    ("LZ-ZR-0003", "农村宅基地使用权信息", "部门信息资源", "305002", "有条件共享", "库表", "不予开放",
     "每年", [*PERSON, "homestead_certificate:DE00171!"], "宅基地使用权证信息", {}),
    ("LZ-MZ-0002", "最低生活保障对象信息", "主题信息资源", "201005", "有条件共享", "库表", "不予开放",
     "每月", [*PERSON, "certificate:DE00131!", "monthly_amount:DE00132!",
              "household_size:DE00134!"], "城乡低保对象的低保证、保障金和家庭人口", {}),
    ("LZ-MZ-0003", "社会组织登记信息", "基础信息资源", "102003", "无条件共享", "库表", "无条件开放",
     "每日", ["*uscc:DE00021", "organisation:DE00130!"], "在本市登记的社会组织", {}),
    ("LZ-MZ-0004", "离婚登记信息", "主题信息资源", "203003", "有条件共享", "库表", "不予开放", "每日",
     [*PERSON, "divorced_on:DE00055!", "certificate:DE00056!"], "离婚登记日期和离婚证字号", {}),
    ("LZ-WJ-0002", "死亡医学证明信息", "主题信息资源", "203004", "有条件共享", "文件", "不予开放",
     "每日", ["*certificate:DE00127!", "name:DE00001", "id_number:DE00002",
              "died_on:DE00128!"], "死亡医学证明（推断）书信息", {}),
    ("LZ-WJ-0003", "医疗机构执业登记信息", "部门信息资源", "307001", "无条件共享", "库表", "无条件开放",
     "每日", ["*uscc:DE00021", "institution:DE00117!", "licence:DE00118!"], "医疗机构执业许可信息",
     {}),
    ("LZ-WJ-0004", "医师执业注册信息", "部门信息资源", "307002", "有条件共享", "库表", "不予开放",
     "每日", [*PERSON, "qualification:DE00119!", "practice:DE00120!", "category:DE00121!",
              "scope:DE00122!"], "医师资格和执业注册信息", {}),
    ("LZ-WJ-0005", "预防接种信息", "主题信息资源", "202001", "有条件共享", "库表", "不予开放", "每日",
     [*PERSON, "card:DE00123!", "vaccine:DE00124!", "vaccinated_on:DE00125!"], "儿童预防接种记录", {}),
    ("LZ-WJ-0006", "传染病报告信息", "部门信息资源", "307003", "不予共享", "库表", "不予开放", "实时",
     [*PERSON, "died_on:DE00128", "cause:DE00129!"], "法定传染病病例报告",
     {"share_basis": "《中华人民共和国传染病防治法》第十二条：不得泄露涉及个人隐私的有关信息、资料"}),
    ("LZ-JY-0001", "学籍信息", "主题信息资源", "204001", "有条件共享", "库表", "不予开放", "每年",
     [*PERSON, "school:DE00108!", "student_number:DE00109!", "enrolled_on:DE00113!",
      "grade:DE00115!"], "中小学生学籍信息", {}),
    ("LZ-JY-0002", "学历证书信息", "主题信息资源", "204002", "有条件共享", "库表", "不予开放", "每年",
     [*PERSON, "diploma:DE00110!", "degree:DE00111!", "major:DE00112!",
      "graduated_on:DE00114!"], "本市高校毕业证书和学位证书信息", {}),
    ("LZ-JY-0003", "教师资格信息", "部门信息资源", "308001", "有条件共享", "库表", "不予开放", "每月",
     [*PERSON, "certificate:DE00116!"], "教师资格证书信息", {}),
    ("LZ-JT-0001", "道路运输经营许可信息", "部门信息资源", "309001", "无条件共享", "库表", "无条件开放",
     "每日", [*COMPANY, "licence:DE00151!", "transport_certificate:DE00152!"], "道路运输经营许可", {}),
    ("LZ-ZJ-0001", "建筑工程施工许可信息", "部门信息资源", "304001", "无条件共享", "库表", "无条件开放",
     "每日", [*COMPANY, "project:DE00153", "project_code:DE00154!", "permit:DE00158!",
              "investment:DE00157!"], "建筑工程施工许可证核发信息", {}),
    ("LZ-ZJ-0002", "建筑业企业资质信息", "部门信息资源", "304002", "无条件共享", "库表", "无条件开放",
     "每日", [*COMPANY, "certificate:DE00160!", "grade:DE00161!"], "建筑业企业资质证书", {}),
    ("LZ-ZJ-0003", "商品房预售许可信息", "部门信息资源", "304003", "无条件共享", "库表", "无条件开放",
     "每日", [*COMPANY, "permit:DE00162!"], "商品房预售许可证", {}),
    ("LZ-ZJ-0004", "房屋网签备案信息", "主题信息资源", "207001", "有条件共享", "库表", "不予开放",
     "实时", [*PERSON, "contract:DE00163!", "price:DE00164!"], "商品房买卖合同网签备案", {}),
    ("LZ-YB-0001", "医保参保信息", "主题信息资源", "201006", "有条件共享", "库表", "不予开放", "每日",
     [*PERSON, "category:DE00126!", "insured_on:DE00032"], "基本医疗保险参保类别和参保日期", {}),
    ("LZ-GJJ-0001", "公积金缴存信息", "主题信息资源", "207002", "有条件共享", "库表", "不予开放",
     "每月", [*PERSON, "account:DE00103!", "monthly:DE00104!", "balance:DE00105!",
              "status:DE00106!", "opened_on:DE00107!"], "住房公积金账户和缴存信息", {}),
    ("LZ-SWJ-0001", "纳税人登记信息", "基础信息资源", "102004", "有条件共享", "库表", "不予开放",
     "每日", [*COMPANY, "taxpayer_number:DE00094!", "taxpayer_name:DE00095!",
              "tax_office:DE00096!"], "纳税人识别号、名称和主管税务机关", {}),
    ("LZ-SWJ-0002", "纳税信用等级信息", "主题信息资源", "206002", "无条件共享", "库表", "无条件开放",
     "每年", [*COMPANY, "credit_grade:DE00097!"], "纳税信用A级纳税人名单等", {}),
    ("LZ-SWJ-0003", "完税证明信息", "主题信息资源", "206003", "有条件共享", "库表", "不予开放",
     "实时", [*COMPANY, "certificate:DE00099!", "tax:DE00098!", "amount:DE00100!",
              "period_from:DE00101!", "period_to:DE00102!"], "完税证明", {}),
    ("LZ-CL-0001", "残疾人信息", "主题信息资源", "201007", "有条件共享", "库表", "不予开放", "每月",
     [*PERSON, "certificate:DE00135!", "category:DE00136!", "grade:DE00137!"], "持证残疾人信息", {}),
    ("LZ-ST-0001", "排污许可信息", "部门信息资源", "310001", "无条件共享", "库表", "无条件开放", "每日",
     [*COMPANY, "permit:DE00165!", "valid_until:DE00081"], "排污许可证核发信息", {}),
    ("LZ-NY-0001", "农村土地承包经营权信息", "部门信息资源", "314001", "有条件共享", "库表", "不予开放",
     "每年", [*PERSON, "certificate:DE00169!", "area:DE00170!"], "农村土地承包经营权证", {}),
    ("LZ-WL-0001", "文物保护单位信息", "部门信息资源", "312001", "无条件共享", "文件", "无条件开放",
     "每年", ["site:DE00172!", "division:DE00012", "longitude:DE00205!", "latitude:DE00206!"],
     "市级以上文物保护单位名录和位置", {}),
    ("LZ-WL-0002", "营业性演出许可信息", "部门信息资源", "312002", "无条件共享", "库表", "无条件开放",
     "每日", [*COMPANY, "permit:DE00173!"], "营业性演出许可证", {}),
    ("LZ-SF-0001", "社区矫正对象信息", "部门信息资源", "319001", "不予共享", "库表", "不予开放", "每日",
     [*PERSON, "current_address:DE00014"], "社区矫正对象信息",
     {"share_basis": "《中华人民共和国社区矫正法》第四条：社区矫正对象的身份信息和个人隐私应当保密"}),
    ("LZ-SF-0002", "律师执业信息", "部门信息资源", "319002", "有条件共享", "库表", "不予开放", "每月",
     [*PERSON, "licence:DE00189!"], "律师执业证信息", {}),
    ("LZ-SF-0003", "公证书信息", "部门信息资源", "319003", "有条件共享", "接口", "不予开放", "实时",
     [*PERSON, "notarial_certificate:DE00190!"], "公证书编号查验",
     {"endpoint_url": "https://data.sf.lanzhou.example/api/v1/notary"}),
    ("LZ-ZW-0001", "电子证照目录信息", "主题信息资源", "208001", "有条件共享", "文件", "不予开放",
     "实时", ["*licence_number:DE00192!", "licence_name:DE00191!", "holder:DE00193!",
              "issued_on:DE00194!", "valid_until:DE00195!"], "本市签发的电子证照目录", {}),
]

# Departments with their own 行政许可、行政处罚 and 办件 resources (the index gives the 项 code).
GENERIC = ["GA", "SC", "RS", "ZJ", "ZR", "MZ", "WJ", "JY", "JT", "ST", "CG", "WL", "SW", "NY",
           "SL", "YB", "TY", "YJ", "SF", "SWJ", "GJJ", "CL", "LC", "XF", "ZW"]
PENALTIES = {"GA", "SC", "ZJ", "ZR", "WJ", "JT", "ST", "CG", "WL", "SW", "NY", "SL", "YJ", "LC",
             "XF", "SWJ", "YB"}


def generic() -> list[R]:
    specs: list[R] = []
    for n, prefix in enumerate(GENERIC, start=1):
        department = DEPARTMENTS[prefix]
        short = SHORT.get(department, department.removeprefix("兰州市"))
        specs.append((f"LZ-{prefix}-1001", f"{short}行政许可信息", "部门信息资源", f"3{n:02d}901",
                      "无条件共享", "库表", "无条件开放", "每日",
                      [*COMPANY, "licence_number:DE00074", "licence_scope:DE00075",
                       "issuer:DE00076", "valid_from:DE00080", "valid_until:DE00081"],
                      f"{department}作出的行政许可决定（“双公示”）", {}))
        if prefix in PENALTIES:
            specs.append((f"LZ-{prefix}-1002", f"{short}行政处罚信息", "部门信息资源",
                          f"3{n:02d}902", "无条件共享", "库表", "无条件开放", "每日",
                          [*COMPANY, "decision_number:DE00182", "reason:DE00183",
                           "fine:DE00184", "decided_on:DE00185"],
                          f"{department}对法人作出的行政处罚决定（“双公示”）", {}))
        specs.append((f"LZ-{prefix}-1003", f"{short}政务服务办件信息", "部门信息资源",
                      f"3{n:02d}903", "有条件共享", "文件", "不予开放", "每日",
                      ["*case_number:DE00196", "item_code:DE00197", "item_name:DE00198",
                       "accepted_on:DE00199", "completed_on:DE00200", "result:DE00201",
                       "handler:DE00202"],
                      f"{department}受理和办结的政务服务办件", {"share_condition": COND}))
    return specs


ELEMENT_HEADERS = ["内部标识符", "中文名称", "英文名称", "说明", "对象类词", "特性词", "表示词",
                   "数据类型", "表示格式", "最大长度", "值域类型", "格式规则", "代码集", "校验规则",
                   "计量单位", "同义名称", "个人信息"]


def element_rows(path: Path) -> tuple[list[list[object]], dict[str, dict[str, str]]]:
    from tongban.catalog.workbook.template import label_of
    from tongban.exchange.models import Checker, DataType, DomainKind

    rows, by_id = [], {}
    with path.open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            by_id[record["identifier"]] = record
            rows.append([
                record["identifier"], record["name"], record["name_en"] or None,
                record["definition"], record["object_class"] or None,
                record["property_term"] or None, record["representation"] or None,
                label_of(DataType)[record["data_type"]], record["format"] or None,
                int(record["max_length"]) if record["max_length"] else None,
                label_of(DomainKind)[record["domain_kind"] or "free"],
                record["pattern"] or None, record["code_list"] or None,
                label_of(Checker)[record["checker"]] if record["checker"] else None,
                record["unit"] or None, record["synonyms"] or None, record["personal"]])
    return rows, by_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--elements", default=str(ELEMENTS))
    parser.add_argument("--output", default=str(TARGET))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()
    from tongban.exchange import workbook

    elements, by_id = element_rows(Path(args.elements))
    resources, items = [], []
    claimed: dict[str, str] = {}
    for (code, name, klass, category, share, method, open_type, cycle, keys, summary,
         extra) in SHARED + HAND + generic():
        prefix = code.split("-")[1]
        provider = DEPARTMENTS[prefix]
        values = {"资源代码": code, "资源名称": name, "资源提供方": provider, "资源分类": klass,
                  "类目编码": category, "资源摘要": summary,
                  "资源格式": {"库表": "数据库表", "文件": "电子表格（XLSX）",
                           "接口": "接口（JSON）"}[method],
                  "共享类型": share, "共享方式": method, "开放属性": open_type, "更新周期": cycle,
                  "所在网络": "电子政务外网"}
        if share == "有条件共享" and "share_condition" not in extra:
            extra = {**extra, "share_condition": COND}
        values["共享条件"] = extra.get("share_condition")
        values["不予共享依据"] = extra.get("share_basis")
        values["接口地址"] = extra.get("endpoint_url")
        values["关联服务事项"] = ";".join(extra.get("related_items", [])) or None  # type: ignore[arg-type]
        resources.append([values.get(c.header) for c in workbook.RESOURCE_COLUMNS])
        for spec in keys:
            subject = spec.startswith("*")
            source = spec.partition("=")[0].endswith("!")
            spec, _eq, label = spec.partition("=")
            key, element = spec.strip("*!").split(":")
            record = by_id[element]
            if open_type != "不予开放" and record["personal"] == "是":
                raise SystemExit(f"{code}: open resource binds personal element {element}")
            if source and claimed.setdefault(element, provider) != provider:
                raise SystemExit(f"{code}: {element} already claimed by {claimed[element]}")
            items.append([code, key, label or record["name"], element, "是" if subject else "否",
                          "是" if source else "否"])
    assert workbook.ELEMENT_COLUMNS[0].header == ELEMENT_HEADERS[0]
    workbook._write(args.output, {workbook.SHEET_ELEMENTS: elements,
                                  workbook.SHEET_RESOURCES: resources,
                                  workbook.SHEET_ITEMS: items})
    print(f"{args.output}: {len(elements)} elements, {len(resources)} resources, "
          f"{len(items)} data items")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
