"""Brings Superset's metadata to what the repository says, in one process
(each `superset` CLI command loads the whole application, about 6 s):

  - the schema (what `superset db upgrade` does), when --upgrade;
  - roles and permissions (what `superset init` does), when --upgrade;
  - the user admin, whose password is read from the file --password-file
    (`superset fab create-admin` would take it on its command line);
  - the ClickHouse database, datasets, charts and dashboard of ASSETS (the
    export format of `superset export-dashboards`, as files), imported with
    overwrite, so that a changed file in the repository replaces what the
    metadata had (each kind by its own import: a dashboard's import leaves
    existing datasets and charts alone). In the database's YAML, @CLICKHOUSE_URI@ becomes the value
    of the environment variable CDC_SUPERSET_CLICKHOUSE_URI.

Run with the venv's python, SUPERSET_CONFIG_PATH and CDC_SUPERSET_STATE
set (scripts/dashboard does). Prints one line per object imported; exits 1
with the importer's message when an asset does not import.

usage: setup.py [--upgrade] --password-file FILE ASSETS
"""
import argparse
import logging
import os
import sys


def read_assets(root, uri):
    """Map each YAML file under root to its text, keyed by its path inside
    root, the way the importer reads a ZIP bundle."""
    contents = {}
    for folder, _, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith(".yaml"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            key = os.path.relpath(path, root)
            contents[key] = text.replace("@CLICKHOUSE_URI@", uri)
    return contents


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upgrade", action="store_true")
    ap.add_argument("--password-file", required=True)
    ap.add_argument("assets")
    a = ap.parse_args()
    uri = os.environ["CDC_SUPERSET_CLICKHOUSE_URI"]
    with open(a.password_file, encoding="utf-8") as f:
        password = f.read().strip()

    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from flask import g
        from superset import appbuilder, security_manager
        from superset.extensions import db

        if a.upgrade:
            import flask_migrate
            import superset

            # Alembic logs every migration at INFO; only failures matter.
            logging.getLogger("alembic").setLevel(logging.WARNING)
            flask_migrate.upgrade(directory=os.path.join(
                os.path.dirname(superset.__file__), "migrations"))
            appbuilder.add_permissions(update_perms=True)
            security_manager.sync_role_definitions()

        user = security_manager.find_user(username="admin")
        if user is None:
            user = security_manager.add_user(
                "admin", "Admin", "User", "admin@localhost",
                security_manager.find_role("Admin"), password=password)
            if not user:
                sys.exit("setup: error: cannot create the user admin")
        else:
            # The password file is the truth: a new one takes effect.
            security_manager.reset_password(user.id, password)
        g.user = user

        # A dashboard's import leaves existing databases, datasets and
        # charts as they are; each kind's own import overwrites them.
        from superset.commands.chart.importers.dispatcher import (
            ImportChartsCommand)
        from superset.commands.dashboard.importers.dispatcher import (
            ImportDashboardsCommand)
        from superset.commands.database.importers.dispatcher import (
            ImportDatabasesCommand)
        from superset.commands.dataset.importers.dispatcher import (
            ImportDatasetsCommand)
        from superset.commands.exceptions import CommandInvalidError

        contents = read_assets(a.assets, uri)
        for command, kind in ((ImportDatabasesCommand, "Database"),
                              (ImportDatasetsCommand, "SqlaTable"),
                              (ImportChartsCommand, "Slice"),
                              (ImportDashboardsCommand, "Dashboard")):
            bundle = dict(contents)
            bundle["metadata.yaml"] = bundle["metadata.yaml"].replace(
                "type: Dashboard", "type: " + kind)
            try:
                command(bundle, overwrite=True).run()
            except CommandInvalidError as e:
                sys.exit("setup: error: cannot import %s: %s"
                         % (a.assets, e.normalized_messages()))
        db.session.commit()
        for key in sorted(contents):
            if key != "metadata.yaml":
                print("imported", key)


if __name__ == "__main__":
    main()
