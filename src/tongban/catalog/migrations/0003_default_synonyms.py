"""Seed search synonyms that people commonly type for the catalog's official names.

Bureaus edit them in the admin afterwards; a term that already exists is left as it is.
"""

from django.db import migrations

DEFAULT_SYNONYMS = {
    "社保": "社会保险;社会保障",
    "社保卡": "社会保障卡",
    "户口": "户籍",
    "落户": "户口迁入",
    "医保": "医疗保险;医疗保障",
    "身份证": "居民身份证",
    "公积金": "住房公积金",
    "营业执照": "企业设立登记;个体工商户设立登记",
    "开公司": "企业设立登记",
    "低保": "最低生活保障",
    "养老金": "养老保险",
    "失业金": "失业保险金",
    "结婚": "结婚登记",
    "离婚": "离婚登记",
    "出生证": "出生医学证明",
    "准生证": "生育登记",
    "健康证": "健康证明",
    "残疾证": "残疾人证",
    "房产证": "不动产权证书;不动产登记",
    "无犯罪证明": "无犯罪记录证明",
    "网约车": "网络预约出租汽车",
    "完税证明": "税收完税证明",
    "驾照": "驾驶证",
}


def seed(apps, schema_editor):
    Synonym = apps.get_model("catalog", "Synonym")
    for term, synonyms in DEFAULT_SYNONYMS.items():
        Synonym.objects.get_or_create(term=term, defaults={"synonyms": synonyms})


def unseed(apps, schema_editor):
    Synonym = apps.get_model("catalog", "Synonym")
    for term, synonyms in DEFAULT_SYNONYMS.items():
        Synonym.objects.filter(term=term, synonyms=synonyms).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_search_index")]
    operations = [migrations.RunPython(seed, unseed)]
