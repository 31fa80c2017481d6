"""townsquare.yml validation: errors name the field path and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from townsquare.config import ConfigError, load_config, parse_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "townsquare.yml"
    path.write_text(text)
    return path


def test_valid_config_resolves_paths_and_families(tmp_path: Path, monkeypatch) -> None:
    path = write(
        tmp_path,
        """
lake: data/lake
warehouse: /srv/wh.duckdb
quarantine_threshold: 0.1
defaults: {schedule: "@hourly", retries: 2}
sources:
  - type: wxr
    name: main-blog
    location: exports/blog.xml
  - type: wordpress
    name: wp
    location: https://blog.example.org
    schedule: "0 3 * * *"
    credentials: {conn_id: wp_blog, env: {token: WP_TOKEN}}
  - type: feed
    name: news
    location: https://news.example.org/feed/
    enabled: false
""",
    )
    cfg = load_config(path)
    assert cfg.lake_path == str(tmp_path / "data" / "lake")
    assert cfg.warehouse_path == "/srv/wh.duckdb"
    assert [s.name for s in cfg.sources_for("blog")] == ["main-blog", "wp"]
    assert cfg.schedule_for("blog") == "0 3 * * *"
    assert cfg.schedule_for("forum") == "@hourly"
    assert cfg.defaults.retries == 2
    monkeypatch.setenv("WP_TOKEN", "s3cret")
    assert cfg.sources[1].credentials.env == {"token": "WP_TOKEN"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "sources:\n  - {type: wxrr, name: a, location: x}\n",
            "sources[0].type: expected one of crm, discourse, feed, gharchive, git, github, mbox, "
            "pipermail, wordpress, wxr (got 'wxrr')",
        ),
        (
            "sources:\n  - {type: wxr, name: a, location: x}\n  - {type: feed, name: 'My Blog', location: y}\n",
            "sources[1].name: expected a slug",
        ),
        ("sources:\n  - {type: wxr, name: a}\n", "sources[0].location: required field is missing"),
        (
            "sources:\n  - {type: wxr, name: a, location: x, shedule: daily}\n",
            "sources[0].shedule: unknown field (check the spelling)",
        ),
        (
            "quarantine_threshold: 2\n",
            "quarantine_threshold: Input should be less than or equal to 1",
        ),
        (
            "sources:\n  - {type: wxr, name: a, location: x}\n  - {type: wxr, name: a, location: y}\n",
            "duplicate source name 'a'",
        ),
        ("- just\n- a list\n", "expected a mapping at the top level, got list"),
        ("sources: [\n", "invalid YAML at line"),
    ],
)
def test_errors_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert message in str(err.value)
    assert str(err.value).startswith(str(tmp_path / "townsquare.yml"))


def test_missing_file_and_env_credentials(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yml")
    cfg = parse_config(
        {
            "sources": [
                {
                    "type": "wordpress",
                    "name": "wp",
                    "location": "https://x.example",
                    "credentials": {"env": {"password": "WP_PASS_FOR_TEST"}},
                }
            ]
        }
    )
    monkeypatch.delenv("WP_PASS_FOR_TEST", raising=False)
    with pytest.raises(ConfigError, match="environment variable WP_PASS_FOR_TEST is not set"):
        cfg.sources[0].credentials.resolve()
    monkeypatch.setenv("WP_PASS_FOR_TEST", "pw")
    assert cfg.sources[0].credentials.resolve() == {"password": "pw"}


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, ""))
    assert cfg.sources == []
    assert cfg.quarantine_threshold == 0.05
    assert cfg.lake_path == str(tmp_path / ".townsquare" / "lake")
