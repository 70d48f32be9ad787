//! SQL on a [`PgServer`] through `psql` (and `pg_dump`), as the superuser over the private
//! socket: the tests' independent view of what the library's engine wrote.

use std::process::Command;

use super::{DATABASE, PSQL_SCRIPTED, PgServer, USER, process};

impl PgServer {
    /// A new database owned by [`USER`]; its URL. One server can hold many tests' databases.
    pub fn create_database(&self, name: &str) -> String {
        self.psql_in("postgres", &format!("CREATE DATABASE {name} OWNER {USER}"));
        self.url_for(name)
    }

    /// Runs `sql` (one or more statements) in [`DATABASE`] as the superuser; what `psql` printed
    /// (unaligned, tuples only: one row a line, columns split by `|`), trimmed. Panics with
    /// PostgreSQL's error if a statement fails.
    pub fn psql(&self, sql: &str) -> String {
        self.psql_in(DATABASE, sql)
    }

    /// [`psql`](Self::psql) in `database`.
    pub fn psql_in(&self, database: &str, sql: &str) -> String {
        self.try_psql_in(database, sql)
            .unwrap_or_else(|error| panic!("psql failed on {sql:?}: {error}"))
    }

    /// [`psql_in`](Self::psql_in), with PostgreSQL's error (or psql's, when the server is down)
    /// as the `Err`.
    pub fn try_psql_in(&self, database: &str, sql: &str) -> Result<String, String> {
        let output = self
            .psql_command(database, sql)
            .output()
            .unwrap_or_else(|e| panic!("cannot run psql ({e}): {}", process::INSTALL));
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
        }
    }

    /// The `psql` command [`psql_in`](Self::psql_in) runs, to start and watch it yourself (a
    /// statement that waits, say).
    pub fn psql_command(&self, database: &str, sql: &str) -> Command {
        let port = self.port.to_string();
        let socket = self.socket_dir().display().to_string();
        let mut command = process::command("psql", PSQL_SCRIPTED);
        command
            .args(["-h", &socket, "-p", &port, "-U", "postgres", "-d", database])
            .args(["-c", sql]);
        command.current_dir(&self.dir);
        command
    }

    /// `pg_dump` of `database` (plain SQL), as the superuser: what a stolen backup would hold.
    pub fn pg_dump(&self, database: &str) -> String {
        let port = self.port.to_string();
        let socket = self.socket_dir().display().to_string();
        let mut command = process::command(
            "pg_dump",
            &["-h", &socket, "-p", &port, "-U", "postgres", "-d", database],
        );
        command.current_dir(&self.dir);
        String::from_utf8(process::run(command, "pg_dump").stdout).unwrap()
    }
}
