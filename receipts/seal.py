"""The organisation's electronic seal on its receipts: a PAdES signature made with pyHanko.

The treasurer uploads a PKCS#12 file (certificate and private key) and its password on the
receipt settings page. It is checked (it opens, holds a key and its certificate, the
certificate is valid today), then stored under the instance folder encrypted again with a
passphrase derived from SECRET_KEY, so no password is kept anywhere (changing SECRET_KEY
means uploading the file again). From then on every receipt PDF written is sealed before it
is stored: a PAdES baseline signature (ETSI.CAdES.detached, SHA-256) over the whole PDF/A
file, with an RFC 3161 timestamp from the time-stamping authority when one is configured.
Without a certificate, receipts are stored unsealed as before.
"""

import hashlib
import hmac
import io
import os
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from asn1crypto import cms
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from flask import current_app
from flask_babel import lazy_gettext as _l
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers, timestamps
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import get_pyca_cryptography_hash

from legami import audit
from legami.models import User
from legami.validation import Invalid
from receipts.models import ReceiptSettings

FIELD = "SigilloEnte"
MAX_BYTES = 64 * 1024
# Room for the CMS container of a seal without timestamp (certificate chain included);
# with a timestamp pyHanko measures it, as the authority's token varies in size.
RESERVED_BYTES = 16 * 1024
FOLDER = "seal"


class FastSigner(signers.SimpleSigner):
    """pyHanko's in-memory signer, made fit for thousands of receipts.

    The private key is parsed once rather than for each signature (parsing an RSA key checks
    it, which costs more than signing). And a PAdES signature without timestamp is the same
    CMS container every time but for the document's digest and the signature value: its
    signed attributes are the content type, the digest and the signing certificate (PAdES
    puts no signing time there). So the container pyHanko builds once, for a marker digest,
    is kept as a template; each document gets a copy with its digest in place of the marker
    and the RSA signature of the resulting attributes in place of the template's (same
    length: PKCS#1 v1.5 signatures are as long as the key). The bytes are those pyHanko
    itself produces (tests/receipts/test_archive_seal.py compares them); anything else
    (a timestamp, ECDSA, other attributes) goes through pyHanko's own path.
    """

    MARKER = hashlib.sha256(b"legami receipts seal template").digest()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._key = serialization.load_der_private_key(self.signing_key.dump(), None)
        self._templates: dict[str, tuple[bytes, bytes, bytes]] = {}

    async def _template(self, digest_algorithm: str) -> tuple[bytes, bytes, bytes]:
        """(signed attributes as signed, whole container, its signature) for the marker."""
        if digest_algorithm not in self._templates:
            container = await super().async_sign(
                self.MARKER, digest_algorithm, use_pades=True, is_pdf_sig=True
            )
            info = container["content"]["signer_infos"][0]
            attributes = info["signed_attrs"].untag().dump()
            whole, signature = container.dump(), info["signature"].native
            if whole.count(self.MARKER) != 1 or attributes.count(self.MARKER) != 1:
                raise RuntimeError("the seal template cannot be located")
            self._templates[digest_algorithm] = (attributes, whole, signature)
        return self._templates[digest_algorithm]

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run=False,
        use_pades=False,
        timestamper=None,
        signed_attr_settings=None,
        is_pdf_sig=True,
        encap_content_info=None,
    ):
        settings = signed_attr_settings
        plain = (
            use_pades
            and is_pdf_sig
            and not dry_run
            and timestamper is None
            and encap_content_info is None
            and len(data_digest) == len(self.MARKER)
            and digest_algorithm == "sha256"
            and self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            == "rsassa_pkcs1v15"
            and (settings is None or settings.cades_signed_attrs is None)
            and (settings is None or settings.adobe_revinfo_attr is None)
        )
        if not plain:
            return await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run=dry_run,
                use_pades=use_pades,
                timestamper=timestamper,
                signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
        attributes, whole, template_signature = await self._template(digest_algorithm)
        signature = self.sign_raw(attributes.replace(self.MARKER, data_digest), digest_algorithm)
        if len(signature) != len(template_signature):
            raise RuntimeError("the seal signature changed length")
        der = whole.replace(self.MARKER, data_digest).replace(template_signature, signature)
        return cms.ContentInfo.load(der)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        digest = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15":
            return self._key.sign(data, PKCS1v15(), digest)
        if mechanism == "ecdsa":
            return self._key.sign(data, ECDSA(digest))
        return super().sign_raw(data, digest_algorithm)


def _passphrase() -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"legami.receipts.seal", hashlib.sha256).hexdigest().encode()


def _folder() -> Path:
    return Path(current_app.instance_path) / FOLDER


def save_certificate(
    settings: ReceiptSettings, upload, password: str, user: User | None
) -> ReceiptSettings:
    """Check an uploaded PKCS#12 file and make it the organisation's seal (audited; the
    caller commits). Raises Invalid, storing nothing, when it cannot be used."""
    data = upload.read(MAX_BYTES + 1)
    if not data or len(data) > MAX_BYTES:
        raise Invalid({"seal_file": _l("Upload a PKCS#12 file (.p12 or .pfx) of at most 64 KB.")})
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(
            data, (password or "").encode() or None
        )
    except ValueError as exc:
        raise Invalid(
            {"seal_password": _l("The file cannot be opened with this password.")}
        ) from exc
    if key is None or certificate is None:
        raise Invalid({"seal_file": _l("The file holds no private key with its certificate.")})
    now = datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise Invalid({"seal_file": _l("The certificate is not valid today.")})
    stored = pkcs12.serialize_key_and_certificates(
        b"legami-seal",
        key,
        certificate,
        chain or None,
        serialization.BestAvailableEncryption(_passphrase()),
    )
    name = f"{settings.organisation_id}-{hashlib.sha256(stored).hexdigest()[:16]}.p12"
    folder = _folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "wb") as out:
        out.write(stored)
    audit.record_update(
        user,
        "receipts.seal",
        f"organisation:{settings.organisation_id}",
        settings,
        {
            "seal_certificate": name,
            "seal_subject": certificate.subject.rfc4514_string()[:300],
        },
    )
    return settings


def remove_certificate(settings: ReceiptSettings, user: User | None) -> None:
    """Stop sealing receipts written from now on (the caller commits)."""
    audit.record_update(
        user,
        "receipts.seal",
        f"organisation:{settings.organisation_id}",
        settings,
        {"seal_certificate": None, "seal_subject": ""},
    )


@lru_cache(maxsize=16)
def _signer(path: str, passphrase: bytes) -> FastSigner:
    loaded = signers.SimpleSigner.load_pkcs12(path, passphrase=passphrase)
    if loaded is None:
        raise RuntimeError(f"the seal certificate {path} cannot be opened (SECRET_KEY changed?)")
    return FastSigner(
        signing_cert=loaded.signing_cert,
        signing_key=loaded.signing_key,
        cert_registry=loaded.cert_registry,
    )


def timestamper(settings: ReceiptSettings) -> timestamps.TimeStamper | None:
    """The time-stamping authority's client, when the organisation configured one."""
    return timestamps.HTTPTimeStamper(settings.tsa_url) if settings.tsa_url else None


def seal(data: bytes, settings: ReceiptSettings | None, signer_name: str) -> bytes:
    """The PDF sealed with the organisation's certificate; unchanged without one."""
    if settings is None or not settings.seal_certificate:
        return data
    signer = _signer(str(_folder() / settings.seal_certificate), _passphrase())
    stamper = timestamper(settings)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        name=signer_name,
        reason="Ricevuta per erogazione liberale",
    )
    out = io.BytesIO()
    signers.PdfSigner(meta, signer, timestamper=stamper).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(data)),
        output=out,
        bytes_reserved=None if stamper else RESERVED_BYTES,
    )
    return out.getvalue()
