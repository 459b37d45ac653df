"""What the rest of faber-db knows about a migration tool without loading its handler.

The approval gate (which commands of the tool change a database, which files and variables decide
where it points), the project search, the Claude Code permission rules, the engines (which table is
the tool's history, not user data) and the error table read these. Standard library only and no other
faber_db import: the hook imports this with the system Python, and the engines and `errors` read it
while they load. Each tool declares one `ToolFacts` beside its handler; `faber_db.handlers.known_tools`
lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ToolFacts:
    # the `database.migration_tool` value, which is also the name of the tool's config section
    name: str
    # how messages name the tool ("the sql tool")
    display_name: str
    default_migrations_dir: str
    # the table the tool records applied migrations in
    history_table: str
    # files (relative paths) and folders whose presence marks a folder as the tool's project; a path with
    # a folder in it (`<own_folder>/schema.x`) does not count inside a folder named `own_folder`, whose
    # parent is the project
    project_files: tuple[str, ...] = ()
    project_dirs: tuple[str, ...] = ()
    own_folder: str | None = None
    # file names of the tool's own config (it names the database URL's variable; it marks a project too)
    config_names: tuple[str, ...] = ()
    # path fragments that are the tool's migrations wherever they appear (`<own_folder>/migrations`)
    migrations_paths: tuple[str, ...] = ()
    # folders (relative to the project, "" the project itself) a relative SQLite `file:` URL may start in
    url_file_bases: tuple[str, ...] = ("",)
    # the tool's CLI: its program names, how a JavaScript runtime's argument names it, the prefixes
    # people type to run it (`npx <program>`), and its subcommands that change a database
    programs: frozenset[str] = frozenset()
    entry_scripts: tuple[str, ...] = ()
    runners: tuple[str, ...] = ()
    changing_commands: tuple[tuple[str, str], ...] = ()
    # environment variables that change which database or engine the tool uses, or what it allows
    variables: frozenset[str] = frozenset()
    # the plugin's skill scripts for this tool (relative to the plugin root) -> the faber-db command each runs
    skill_scripts: dict[str, str] = field(default_factory=dict)
    # the stable error codes only this tool's handler raises: code -> (exit code, summary)
    error_codes: dict[str, tuple[int, str]] = field(default_factory=dict)
