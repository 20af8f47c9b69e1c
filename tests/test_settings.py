"""Settings: defaults, every error message, secrets kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_core.config import ConfigError, Settings, load_settings


def test_defaults_need_no_environment() -> None:
    s = load_settings(_env_file=None)
    assert s.DATABASE_URL is None and s.VAULT_PROVIDER == "local" and s.ENV == "dev"
    assert s.COMPLIANCE_MODE is True and s.api_keys == []
    assert s.YOUTUBE_API_BASE_URL == "https://www.googleapis.com/youtube/v3"
    assert s.vault_path == Path(".atlas") / "vault"


def test_reads_environment_and_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("VAULT_PROVIDER=gcs\nGCS_BUCKET_NAME=from-file\nENV=test\n")
    monkeypatch.setenv("GCS_BUCKET_NAME", "from-env")
    s = load_settings(_env_file=env_file)
    assert (s.VAULT_PROVIDER, s.GCS_BUCKET_NAME, s.ENV) == ("gcs", "from-env", "test")


def test_api_keys_respect_compliance_mode() -> None:
    pool = '["key-one", "key-two", "key-three"]'
    assert load_settings(_env_file=None, YOUTUBE_API_KEY_POOL_JSON=pool).api_keys == ["key-one"]
    relaxed = load_settings(_env_file=None, YOUTUBE_API_KEY_POOL_JSON=pool, COMPLIANCE_MODE=False)
    assert relaxed.api_keys == ["key-one", "key-two", "key-three"]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("[not json", "not valid JSON"),
        ('{"a": 1}', "JSON list of API key strings"),
        ("[]", "JSON list of API key strings"),
        ('["ok", 3]', "non-empty string"),
    ],
)
def test_malformed_key_pool_names_the_variable(raw: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None, YOUTUBE_API_KEY_POOL_JSON=raw)
    message = str(info.value)
    assert "YOUTUBE_API_KEY_POOL_JSON" in message and fragment in message


def test_unknown_provider_and_bad_url_are_named_together() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None, VAULT_PROVIDER="s3", DATABASE_URL="mysql://u:pw@h/db")
    message = str(info.value)
    assert "VAULT_PROVIDER" in message and "'local', 'huggingface', 'gcs'" in message
    assert "DATABASE_URL" in message and "postgresql://" in message
    assert "pw@h" not in message


def test_prod_names_every_missing_setting_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None, ENV="prod")
    message = str(info.value)
    for name in ("DATABASE_URL", "YOUTUBE_API_KEY_POOL_JSON", "VAULT_PROVIDER"):
        assert name in message
    assert message.count("\n  - ") == 1  # one error, listing them all


@pytest.mark.parametrize(
    ("provider", "missing"),
    [
        ("huggingface", ["HF_DATASET_ID", "HF_TOKEN"]),
        ("gcs", ["GCS_BUCKET_NAME"]),
        ("local", ["LOCAL_VAULT_PATH"]),
    ],
)
def test_prod_requires_the_providers_own_settings(provider: str, missing: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(
            _env_file=None,
            ENV="prod",
            VAULT_PROVIDER=provider,
            DATABASE_URL="postgresql://atlas@db/atlas",
            YOUTUBE_API_KEY_POOL_JSON='["k"]',
        )
    message = str(info.value)
    assert all(name in message for name in missing)
    assert "DATABASE_URL" not in message


def test_complete_prod_settings_load() -> None:
    s = load_settings(
        _env_file=None,
        ENV="prod",
        VAULT_PROVIDER="gcs",
        GCS_BUCKET_NAME="bucket",
        DATABASE_URL="postgresql://atlas:pw@db:5432/atlas",
        YOUTUBE_API_KEY_POOL_JSON='["k"]',
    )
    assert s.ENV == "prod"


def test_secrets_never_show() -> None:
    s = load_settings(
        _env_file=None,
        DATABASE_URL="postgresql://atlas:db-password@db/atlas",
        YOUTUBE_API_KEY_POOL_JSON='["AIza-very-secret"]',
        HF_TOKEN="hf_secret_token",
        DISCORD_WEBHOOK_OPS="https://discord.com/api/webhooks/1/hook-secret",
    )
    shown = repr(s) + str(s) + str(s.model_dump())
    for secret in ("db-password", "AIza-very-secret", "hf_secret_token", "hook-secret"):
        assert secret not in shown
    assert s.api_keys == ["AIza-very-secret"]


def test_settings_class_lists_reference_fields() -> None:
    reference = {
        "DATABASE_URL",
        "VAULT_PROVIDER",
        "HF_DATASET_ID",
        "HF_TOKEN",
        "GCS_BUCKET_NAME",
        "COMPLIANCE_MODE",
        "ENV",
        "YOUTUBE_API_KEY_POOL_JSON",
        "DISCORD_WEBHOOK_ALERTS",
        "DISCORD_WEBHOOK_HUNT",
        "DISCORD_WEBHOOK_SURVEILLANCE",
        "DISCORD_WEBHOOK_OPS",
    }
    assert reference <= set(Settings.model_fields)


def test_env_example_documents_every_setting() -> None:
    text = (Path(__file__).parent.parent / "ENV.example").read_text()
    undocumented = [name for name in Settings.model_fields if name not in text]
    assert undocumented == []


def test_readme_settings_section_lists_every_setting() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    undocumented = [name for name in Settings.model_fields if f"`{name}`" not in section]
    assert undocumented == []


def test_prod_missing_settings_are_named_alongside_other_errors() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None, ENV="prod", VAULT_PROVIDER="s3")
    message = str(info.value)
    assert "DATABASE_URL" in message and "YOUTUBE_API_KEY_POOL_JSON" in message
    assert "VAULT_PROVIDER: Input should be" in message


def test_malformed_webhook_names_its_variable() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None, DISCORD_WEBHOOK_HUNT="discord.com/hook-secret")
    message = str(info.value)
    assert "DISCORD_WEBHOOK_HUNT" in message and "https://discord.com/api/webhooks/" in message
    assert "hook-secret" not in message
    blank = load_settings(_env_file=None, DISCORD_WEBHOOK_HUNT="  ")
    assert blank.DISCORD_WEBHOOK_HUNT is None  # blank means "not configured"


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"YOUTUBE_TIMEOUT_SECONDS": "inf"}, "YOUTUBE_TIMEOUT_SECONDS"),
        ({"DISCORD_TIMEOUT_SECONDS": "nan"}, "DISCORD_TIMEOUT_SECONDS"),
        ({"ALERT_GIVE_UP_HOURS": 0}, "ALERT_GIVE_UP_HOURS"),
        ({"DB_POOL_MIN_SIZE": 5, "DB_POOL_MAX_SIZE": 2}, "must not exceed DB_POOL_MAX_SIZE"),
    ],
)
def test_incoherent_settings_fail_at_start_up(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None, **overrides)
    assert fragment in str(info.value)


def test_resource_fields_are_settings_and_secret_ones_env_vars(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dagster import EnvVar

    from atlas_assets.definitions import RESOURCE_KEYS, SECRET_SETTINGS, resources
    from atlas_assets.resources import RESOURCES, setting_name

    owner: dict[str, str] = {}
    for resource in RESOURCES:
        for field in resource.model_fields:
            name = setting_name(resource, field)
            assert name in Settings.model_fields, f"{resource.__name__}.{field} -> {name}"
            assert name not in owner, f"{name} is held by {owner[name]} and {resource.__name__}"
            owner[name] = resource.__name__
    assert set(RESOURCE_KEYS.values()) == set(RESOURCES)
    held = SECRET_SETTINGS & set(owner)
    assert {"DATABASE_URL", "YOUTUBE_API_KEY_POOL_JSON", "HF_TOKEN"} <= held
    for name in held:
        monkeypatch.setenv(name, "x")
    configured = resources()
    for key, resource in RESOURCE_KEYS.items():
        for field in resource.model_fields:
            value = getattr(configured[key], field)
            if setting_name(resource, field) in SECRET_SETTINGS:
                assert isinstance(value, EnvVar) and value.env_var_name == setting_name(
                    resource, field
                )
            else:
                assert value is None  # from Settings: the environment or the default
