"""Benchmark: import a province-sized catalog workbook.

Generates a valid synthetic workbook (by default 300 departments, 50,000 items, 4 materials per
item) in the import template, loads it into a fresh database with ``catalog_import_workbook``,
loads it a second time (nothing changes: the idempotent path), and exports it again. Each step
runs in its own process so that its peak memory (maximum resident set size) is its own.

    python benchmarks/bench_import.py                      # fresh SQLite file in a temp dir
    python benchmarks/bench_import.py --items 5000         # a smaller run
    python benchmarks/bench_import.py --database-url postgresql://postgres@127.0.0.1:5432/bench

A PostgreSQL database given with ``--database-url`` must be empty or absent (it is created);
the script never drops a database. Results are printed as a table and as JSON.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DIVISIONS = REPO / "src" / "tongban" / "organizations" / "data" / "divisions.csv"

ITEM_HEADERS = [
    "实施编码", "基本编码", "事项名称", "事项类型", "实施主体", "行使层级", "承诺类别", "法定办结时限",
    "法定时限单位", "承诺办结时限", "承诺时限单位", "到现场次数", "必须现场办理原因", "网上办理深度",
    "办理形式", "是否收费", "收费标准", "收费依据", "受理条件", "设定依据", "服务对象", "主题分类",
    "办理地点", "办理时间", "咨询电话", "监督投诉电话", "审批结果类型", "审批结果名称", "代办受理单位",
    "特别程序",
]
DEPARTMENT_HEADERS = ["部门名称", "统一社会信用代码", "行政区划代码", "行使层级", "上级部门", "咨询电话",
                      "监督投诉电话", "办公地址"]
MATERIAL_HEADERS = ["实施编码", "材料名称", "材料类型", "材料形式", "必要性", "来源渠道", "对应电子证照",
                    "原件份数", "复印件份数", "填报须知"]

ITEM_TYPES = {"行政许可": "01", "行政给付": "05", "行政确认": "07", "行政奖励": "08", "行政裁决": "09",
              "其他行政权力": "10", "公共服务": "20"}
LEVEL_DIGIT = {"市级": "3", "县级": "4", "乡镇级": "5"}
TOPICS = ["设立变更", "准营准办", "社会保障", "就业创业", "住房保障", "户籍办理", "婚姻登记", "医疗卫生",
          "交通出行", "环保绿化", "文体教育", "农林牧渔", "司法公证", "税收财务"]
NOUNS = ["经营许可", "资格认定", "登记", "备案", "补贴申领", "证明开具", "年度审验", "变更", "注销",
         "延续", "核准", "奖励申报", "待遇核定", "信息查询"]
FIELDS = ["食品", "药品", "道路运输", "建筑施工", "城市供水", "燃气", "文化娱乐", "养老服务", "职业培训",
          "医疗机构", "旅行社", "出版物", "种子", "兽药", "渔业捕捞", "气象探测", "特种设备", "户外广告"]


# --- codes ------------------------------------------------------------------------------------

ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organization_code(body: str) -> str:
    """GB 11714 organization code: 8 characters and their check character."""
    total = sum(int(ch, 36) * w for ch, w in zip(body, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def uscc(kind: str, division: str, body: str) -> str:
    """GB 32100 code: "1" (机构编制) + kind + division + organization code + check character."""
    from stdnum.cn import uscc as stdnum_uscc

    number = "1" + kind + division + organization_code(body)
    return number + stdnum_uscc.calc_check_digit(number)


# --- the synthetic workbook ---------------------------------------------------------------------

@dataclass
class Dept:
    name: str
    uscc: str
    division: str
    level: str
    parent: str
    phone: str
    complaint: str


def departments(count: int, rng: random.Random) -> list[Dept]:
    with DIVISIONS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    city = next(r for r in rows if r["level"] == "city")
    counties = [r for r in rows if r["level"] == "county"]
    result: list[Dept] = []
    serial = 0

    def make(name: str, division: str, level: str, parent: str) -> Dept:
        nonlocal serial
        serial += 1
        return Dept(name=name, uscc=uscc("1" if level != "乡镇级" else "2", division,
                                         f"{10_000_000 + serial * 7919 % 89_999_999:08d}"),
                    division=division, level=level, parent=parent,
                    phone=f"0931-8{serial:06d}", complaint=f"0931-7{serial:06d}")

    # A third city bureaus, the rest district bureaus and street service centres below them.
    city_count = max(1, count // 3)
    for i in range(city_count):
        result.append(make(f"兰州市第{i + 1}局", city["code"], "市级", ""))
    i = 0
    while len(result) < count:
        county = counties[i % len(counties)]
        parent = result[i % city_count].name
        result.append(make(f"{county['name']}第{i + 1}局", county["code"], "县级", parent))
        if len(result) < count:
            result.append(make(f"{county['name']}第{i + 1}街道便民服务中心", county["code"], "乡镇级",
                               result[-1].name))
        i += 1
    rng.shuffle(result[city_count:])  # parents may come after their children in the sheet
    return result


def item_rows(count: int, depts: list[Dept], rng: random.Random) -> Any:
    receiving = [d for d in depts if d.level in ("县级", "乡镇级")]
    for n in range(count):
        dept = depts[n % len(depts)]
        type_name = rng.choice(list(ITEM_TYPES))
        basic = f"62{ITEM_TYPES[type_name]}{n + 1:08d}"
        code = dept.uscc + LEVEL_DIGIT[dept.level] + basic
        commitment = rng.choices(["即收即办", "当日办结", "限时办结", "代办服务"], [31, 20, 39, 10])[0]
        legal = rng.choice([0, 3, 5, 10, 20, 30]) if commitment != "限时办结" else rng.choice([5, 10, 20])
        if commitment == "即收即办":
            committed = 0
        elif commitment == "当日办结":
            committed, legal = 1, max(legal, 1)
        else:
            legal = max(legal, 5)
            committed = rng.randint(1, legal)
        visits = rng.choice([0, 0, 0, 1, 1, 2])
        depth = "Ⅳ" if visits == 0 and rng.random() < 0.5 else rng.choice(["Ⅱ", "Ⅲ"])
        fee = rng.random() < 0.05
        field = rng.choice(FIELDS)
        name = f"{field}{rng.choice(NOUNS)}（{n + 1}）"
        yield [
            code, basic, name, type_name, dept.name, dept.level, commitment, legal, "工作日",
            committed, "工作日", visits,
            "须现场核验申请人身份及原件" if visits else None, depth,
            rng.choice(["窗口办理;网上办理", "网上办理;窗口办理", "窗口办理;网上办理;快递申请"]),
            "是" if fee else "否",
            "按件收取，每件20元" if fee else None, "《甘肃省行政事业性收费项目目录》" if fee else None,
            f"申请人应具备从事{field}相关活动的条件；申请材料齐全、符合法定形式；"
            f"已按规定完成{rng.choice(NOUNS)}并取得相应资格。",
            f"《中华人民共和国{field}管理条例》第{rng.randint(2, 60)}条",
            rng.choice(["自然人", "法人", "自然人;法人"]), rng.choice(TOPICS),
            f"{dept.name}政务服务窗口", "周一至周五 9:00-12:00，13:30-17:30（法定节假日除外）",
            dept.phone, dept.complaint, rng.choice(["证照", "批文", "其他"]), f"{name}结果文书",
            rng.choice(receiving).name if commitment == "代办服务" else None,
            "现场核查（5个工作日）" if rng.random() < 0.3 else None,
        ]


def material_rows(codes: list[str], per_item: int, rng: random.Random) -> Any:
    kinds = [("原件", 1, 0), ("复印件", 0, 1), ("原件和复印件", 1, 1)]
    for code in codes:
        for m in range(per_item):
            kind, originals, copies = rng.choice(kinds)
            yield [code, f"申请材料{m + 1}", kind, rng.choice(["纸质", "电子", "纸质和电子"]),
                   rng.choice(["必要", "必要", "非必要", "容缺"]),
                   rng.choice(["申请人自备", "政府部门核发", "其他"]),
                   rng.choice([None, "居民身份证", "营业执照"]), originals, copies,
                   "须申请人签字（盖章）"]


def generate(path: Path, *, items: int, department_count: int, materials: int, seed: int) -> None:
    import openpyxl

    rng = random.Random(seed)
    depts = departments(department_count, rng)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("部门")
    sheet.append(DEPARTMENT_HEADERS)
    for d in depts:
        sheet.append([d.name, d.uscc, d.division, d.level, d.parent or None, d.phone, d.complaint,
                      f"兰州市城关区示例路{rng.randint(1, 999)}号"])
    sheet = book.create_sheet("事项")
    sheet.append(ITEM_HEADERS)
    codes = []
    for row in item_rows(items, depts, rng):
        codes.append(row[0])
        sheet.append(row)
    sheet = book.create_sheet("材料")
    sheet.append(MATERIAL_HEADERS)
    for row in material_rows(codes, materials, rng):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    sizes = [(len(DEPARTMENT_HEADERS), len(depts) + 1), (len(ITEM_HEADERS), items + 1),
             (len(MATERIAL_HEADERS), items * materials + 1)]
    path.write_bytes(with_dimensions(buffer.getvalue(), sizes))


def with_dimensions(data: bytes, sizes: list[tuple[int, int]]) -> bytes:
    """Add the <dimension> element that spreadsheet programs write and openpyxl's streaming
    writer leaves out (readers would otherwise scan a whole sheet just to size it)."""
    from openpyxl.utils import get_column_letter

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                width, height = sizes[int(info.filename[len("xl/worksheets/sheet"):-4]) - 1]
                tag = f'<dimension ref="A1:{get_column_letter(width)}{height}" />'.encode()
                content = content.replace(b"</sheetPr>", b"</sheetPr>" + tag, 1)
            target.writestr(info, content)
    return out.getvalue()


# --- measured steps (each in a child process) ---------------------------------------------------

def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def child(step: str, workbook: Path) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command

    from tongban.accounts.permissions import SYSTEM
    from tongban.catalog.workbook import catalog_export_workbook, catalog_import_workbook

    if step == "migrate":
        call_command("migrate", verbosity=0)
        return {"peak_mib": peak_mib()}
    baseline = peak_mib()
    started, cpu_started = time.perf_counter(), time.process_time()
    if step == "export":
        summary = catalog_export_workbook(workbook.with_suffix(".export.xlsx"))
        counts: dict[str, Any] = {"items": summary.items, "materials": summary.materials}
    else:
        # As the import_catalog command runs it (its own process: every core).
        report = catalog_import_workbook(actor=SYSTEM, source=workbook, name=workbook.name,
                                         standalone=True)
        r = report.result
        counts = {"departments_created": r.departments_created, "items_created": r.items_created,
                  "items_updated": r.items_updated, "items_unchanged": r.items_unchanged,
                  "materials_written": r.materials_written}
    # CPU seconds of the process as well: on a shared machine the wall time says more about the
    # neighbours than about the import.
    # The import segments its search entries in worker processes: their CPU time (counted once
    # they have ended) is the import's too.
    children = os.times()
    return {"seconds": round(time.perf_counter() - started, 1),
            "cpu_seconds": round(time.process_time() - cpu_started
                                 + children.children_user + children.children_system, 1),
            "worker_cpu_seconds": round(children.children_user + children.children_system, 1),
            "peak_mib": round(peak_mib()), "baseline_mib": round(baseline), **counts}


def run_child(step: str, workbook: Path, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", step, str(workbook)], env=env,
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--departments", type=int, default=300)
    parser.add_argument("--materials", type=int, default=4, help="materials per item")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--database-url", help="an empty database (default: fresh SQLite file)")
    parser.add_argument("--workbook", type=Path, help="reuse or keep the generated workbook here")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return

    work = Path(tempfile.mkdtemp(prefix="tongban-bench-"))
    workbook = args.workbook or work / f"catalog-{args.items}.xlsx"
    if not workbook.exists():
        started = time.perf_counter()
        generate(workbook, items=args.items, department_count=args.departments,
                 materials=args.materials, seed=args.seed)
        print(f"generated {workbook} ({workbook.stat().st_size / 2**20:.1f} MiB) "
              f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    database = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
    if database.startswith("postgres"):
        create_postgres_database(database)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tongban.settings",
           "TONGBAN_DATABASE_URL": database, "TONGBAN_DATA_DIR": str(work),
           "TONGBAN_SECRET_KEY": os.environ.get("TONGBAN_SECRET_KEY", "benchmark-only-key"),
           "TONGBAN_LOG_LEVEL": "WARNING"}
    run_child("migrate", workbook, env)
    results = {"items": args.items, "departments": args.departments,
               "materials": args.items * args.materials,
               "database": database.split(":", 1)[0],
               "first import": run_child("import", workbook, env),
               "re-import (unchanged)": run_child("import", workbook, env),
               "export": run_child("export", workbook, env)}
    print(f"{'step':<24}{'seconds':>10}{'CPU s':>10}{'peak MiB':>10}")
    for step in ("first import", "re-import (unchanged)", "export"):
        r = results[step]
        print(f"{step:<24}{r['seconds']:>10}{r['cpu_seconds']:>10}{r['peak_mib']:>10}")
    print(json.dumps(results, ensure_ascii=False))


def create_postgres_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            with psycopg.connect(url) as db:
                tables = db.execute("SELECT count(*) FROM information_schema.tables "
                                    "WHERE table_schema = 'public'").fetchone()
            if tables and tables[0]:
                sys.exit(f"database {name} is not empty; give an empty or new one")
        else:
            conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    main()
