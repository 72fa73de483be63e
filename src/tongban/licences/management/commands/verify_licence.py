"""``tongban verify_licence FILE [--keys KEYS.json] [--registry] [--json]``: check a downloaded
licence file (the machine-readable JSON) offline against the published signing keys.

Without ``--keys`` the keys are this installation's (its key file and
``TONGBAN_LICENCE_TRUSTED_PUBLIC_KEYS``); with it, a key document downloaded from
``GET /api/v1/licences/keys`` — no database or network needed. ``--registry`` also asks this
installation's library whether the licence still stands (changed, revoked, expired). Exit status
1 when the file is not genuine, or (with ``--registry``) the licence does not stand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from tongban.licences import signing
from tongban.licences.verification import Outcome, check_document, today, verify_document


class Command(BaseCommand):
    help = "离线核验电子证照机读文件的签名（按公布的公钥）；--registry 同时查询证照库中的状态"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="电子证照机读文件（.json）")
        parser.add_argument("--keys", default="", help="公钥文件（GET /api/v1/licences/keys 的内容）")
        parser.add_argument("--registry", action="store_true", help="同时查询本平台证照库中的状态")
        parser.add_argument("--json", action="store_true", help="以JSON输出结果")

    def _read(self, path: Path, what: str) -> Any:
        if not path.is_file():
            raise CommandError(_("文件不存在：%(path)s") % {"path": path})
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise CommandError(_("%(what)s“%(name)s”不是有效的JSON") % {
                "what": what, "name": path.name}) from None

    def handle(self, *args: Any, **options: Any) -> None:
        document = self._read(Path(options["file"]), _("证照文件"))
        if options["keys"]:
            try:
                keys = signing.keys_from_published(self._read(Path(options["keys"]), _("公钥文件")))
            except (KeyError, TypeError, ValueError):
                raise CommandError(_("公钥文件的格式不正确")) from None
        else:
            keys = signing.trusted_keys()
        content, problems = check_document(document, keys)
        result: dict[str, Any] = {"genuine": content is not None, "problems": problems}
        if content is not None:
            until = content.get("valid_until")
            result.update(identifier=content["identifier"], type=content["type"]["name"],
                          issuer=content["issuer"]["name"], valid_until=until,
                          expired=bool(until and until < today().isoformat()))
        if options["registry"] and content is not None:
            verdict = verify_document(document)
            result["registry"] = verdict.outcome
        ok = content is not None and not result.get("expired") and (
            not options["registry"] or result.get("registry") == Outcome.VALID)
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        elif content is None:
            self.stdout.write(_("核验不通过：%(problems)s") % {"problems": "；".join(problems)})
        else:
            self.stdout.write(_("签名有效：%(type)s %(id)s，签发部门 %(issuer)s") % {
                "type": result["type"], "id": result["identifier"], "issuer": result["issuer"]})
            if result["expired"]:
                self.stdout.write(_("该证照已超过有效期（至 %(until)s）") % {"until": result["valid_until"]})
            if "registry" in result:
                self.stdout.write(_("证照库状态：%(status)s") % {
                    "status": Outcome(result["registry"]).label})
        if not ok:
            raise SystemExit(1)
