//! Shared helpers: the simulator, scratch databases, generic queries.

use std::sync::atomic::{AtomicU64, Ordering};

use assets_sql::dialect::Dialect;
use assets_sql::fetch::{self, Requests};
use assets_sql::ident::NameMap;
use assets_sql::load::Target;
use assets_sql::model::{Plan, Selection, plan};
use assets_sql::schema::Metadata;
use atlassian::client::{AssetsClient, AtlassianClient};
use atlassian_sim::{SimConfig, SimHandle};
use secrecy::SecretString;
use sqlx::{AssertSqlSafe, Connection, Executor, Row};

pub const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const MY_ADMIN: &str = "mysql://root@127.0.0.1:3306/test";

pub struct Site {
    pub sim: SimHandle,
    pub assets: AssetsClient,
    pub meta: Metadata,
}

/// The simulator's demo site (seed 1, small) and an Assets client of its admin user.
pub async fn demo_site() -> Site {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = atlassian_sim::start(listener, SimConfig::default())
        .await
        .unwrap();
    let admin = sim
        .users_summary()
        .into_iter()
        .find(|u| u.role == "admin")
        .unwrap();
    let site = url::Url::parse(&sim.base_url).unwrap();
    let root = url::Url::parse(&format!("{}/jsm/assets", sim.base_url)).unwrap();
    let client = AtlassianClient::basic(site, admin.email, SecretString::from(admin.api_token))
        .unwrap()
        .assets_root(root)
        .page_size(1000)
        .build()
        .unwrap();
    let assets = client.assets().await.unwrap();
    let mut req = Requests::default();
    let meta = fetch::metadata(&assets, &Selection::default(), &mut req)
        .await
        .unwrap();
    Site { sim, assets, meta }
}

pub fn full_plan(meta: &Metadata) -> (Plan, NameMap) {
    let mut names = NameMap::default();
    let p = plan(meta, &Selection::default(), &mut names, true);
    (p, names)
}

static SEQ: AtomicU64 = AtomicU64::new(0);

pub fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed),
        jiff::Timestamp::now().as_millisecond()
    )
}

/// A fresh database of a backend; `drop` it at the end.
pub struct Scratch {
    pub target: Target,
    pub url: String,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl Scratch {
    pub async fn new(dialect: Dialect) -> Scratch {
        let name = unique_name("assets_sql_it");
        match dialect {
            Dialect::Postgres => {
                let mut c = sqlx::PgConnection::connect(PG_ADMIN).await.unwrap();
                c.execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .await
                    .unwrap();
                let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
                Scratch {
                    target: Target::parse(&url).unwrap(),
                    url,
                    name,
                    _dir: None,
                }
            }
            Dialect::MySql => {
                let mut c = sqlx::MySqlConnection::connect(MY_ADMIN).await.unwrap();
                c.execute(AssertSqlSafe(format!(
                    "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                )))
                .await
                .unwrap();
                let url = format!("mysql://root@127.0.0.1:3306/{name}");
                Scratch {
                    target: Target::parse(&url).unwrap(),
                    url,
                    name,
                    _dir: None,
                }
            }
            Dialect::Sqlite | Dialect::MsSql => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("export.db");
                let url = format!("sqlite://{}", path.display());
                Scratch {
                    target: Target::parse(&url).unwrap(),
                    url,
                    name,
                    _dir: Some(dir),
                }
            }
        }
    }

    pub fn sqlite_path(&self) -> String {
        self.url.trim_start_matches("sqlite://").to_owned()
    }

    pub fn db_name(&self) -> &str {
        &self.name
    }

    pub async fn connect(&self) -> Db {
        match &self.target {
            Target::Postgres(u) => {
                let mut c = sqlx::PgConnection::connect(u).await.unwrap();
                c.execute("SET TIME ZONE 'UTC'").await.unwrap();
                Db::Pg(c)
            }
            Target::MySql(u) => Db::My(sqlx::MySqlConnection::connect(u).await.unwrap()),
            Target::Sqlite(u) => Db::Lite(sqlx::SqliteConnection::connect(u).await.unwrap()),
        }
    }

    pub async fn drop(self) {
        match self.target {
            Target::Postgres(_) => {
                let mut c = sqlx::PgConnection::connect(PG_ADMIN).await.unwrap();
                c.execute(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    self.name
                )))
                .await
                .unwrap();
            }
            Target::MySql(_) => {
                let mut c = sqlx::MySqlConnection::connect(MY_ADMIN).await.unwrap();
                c.execute(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS `{}`",
                    self.name
                )))
                .await
                .unwrap();
            }
            Target::Sqlite(_) => {}
        }
    }
}

/// A connection to a scratch database with text-only generic queries.
pub enum Db {
    Pg(sqlx::PgConnection),
    My(sqlx::MySqlConnection),
    Lite(sqlx::SqliteConnection),
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Pg(_) => Dialect::Postgres,
            Db::My(_) => Dialect::MySql,
            Db::Lite(_) => Dialect::Sqlite,
        }
    }

    pub fn q(&self, ident: &str) -> String {
        self.dialect().quote(ident)
    }

    /// `expr` as text in this dialect.
    pub fn as_text(&self, expr: &str) -> String {
        match self {
            Db::Pg(_) => format!("({expr})::text"),
            Db::My(_) => format!("CAST({expr} AS CHAR)"),
            Db::Lite(_) => format!("CAST({expr} AS TEXT)"),
        }
    }

    pub async fn count(&mut self, sql: &str) -> i64 {
        let sql = format!("SELECT {} AS n FROM ({sql}) AS x", self.as_text("count(*)"));
        let rows = self.texts(&sql).await;
        rows[0][0].as_deref().unwrap().parse().unwrap()
    }

    /// Every row of `sql`, every column read as optional text (select text only).
    pub async fn texts(&mut self, sql: &str) -> Vec<Vec<Option<String>>> {
        let sql = AssertSqlSafe(sql.to_owned());
        match self {
            Db::Pg(c) => {
                let rows = sqlx::query(sql).fetch_all(c).await.unwrap();
                rows.iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| r.try_get::<Option<String>, _>(i).unwrap())
                            .collect()
                    })
                    .collect()
            }
            Db::My(c) => {
                let rows = sqlx::query(sql).fetch_all(c).await.unwrap();
                rows.iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| r.try_get::<Option<String>, _>(i).unwrap())
                            .collect()
                    })
                    .collect()
            }
            Db::Lite(c) => {
                let rows = sqlx::query(sql).fetch_all(c).await.unwrap();
                rows.iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| r.try_get::<Option<String>, _>(i).unwrap())
                            .collect()
                    })
                    .collect()
            }
        }
    }
}
