"""Object storage ("the vault"). Backends arrive with the vault issue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atlas_core.config import Settings


class VaultStrategy:
    """Placeholder until the vault backends land."""


def build_vault(settings: Settings) -> Any:
    raise NotImplementedError(
        f"the vault backend {settings.VAULT_PROVIDER!r} is not built yet (atlas_core.storage)"
    )
