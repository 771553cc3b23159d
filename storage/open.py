"""open_store: resolve the target, connect, migrate, hand back a Store."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from wiredesk.core.errors import NoStoreError, StoreError
from wiredesk.storage.engine import make_engine, read_tx
from wiredesk.storage.migrations import current_version, migrate
from wiredesk.storage.settings import StoreSettings
from wiredesk.storage.store import Store
from wiredesk.storage.targets import resolve


def open_store(target: str, *, create: bool = True, settings: StoreSettings | None = None) -> Store:
    """Open (and with ``create``, create) the store at a file path or URL.

    The schema is migrated to this code's version on open; a store newer than the code raises
    StoreVersionError. Anything unreachable or unopenable raises StoreError with a one-line
    message naming the target (password masked).
    """
    settings = settings or StoreSettings()
    if hasattr(target, "get_secret_value"):  # the config's SecretStr, passed as is
        target = target.get_secret_value()
    where = resolve(target)
    masked = where.masked
    path = where.sqlite_path
    if path is not None:
        if path.is_dir():
            raise NoStoreError(f"cannot open store {path}: it is a directory")
        if not path.exists():
            if not create:
                folder = "" if path.parent.is_dir() else f" (no folder {path.parent})"
                raise NoStoreError(f"no store at {path}{folder}")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create store {path}: {exc.strerror or exc}") from None
    engine = make_engine(where, settings)
    try:
        with read_tx(engine) as conn:
            version = current_version(conn)
        if version == 0 and not create:
            raise NoStoreError(f"{masked} is not a wiredesk store (no schema)")
        migrate(engine, where=masked)
    except StoreError:
        engine.dispose()
        raise
    except (SQLAlchemyError, OSError) as exc:
        engine.dispose()
        raise StoreError(f"cannot open store {masked}: {_one_line(exc, where.url.password)}") from None
    return Store(engine, where, settings)


def _one_line(exc: BaseException, password: str | None) -> str:
    message = " ".join(str(getattr(exc, "orig", None) or exc).split())
    if password:
        message = message.replace(str(password), "***")
    return message[:300]
