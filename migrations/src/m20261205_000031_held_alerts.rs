//! `outbox_email.digest`: a management alert held for its recipient's daily or weekly
//! summary, which no sender claims until the daily job folds it into one email; and
//! `outbox_email.about_account`: the person an alert is about, so erasing them takes the
//! alerts still waiting with them.

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_null;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000031_held_alerts"
    }
}

#[derive(DeriveIden)]
enum OutboxEmail {
    Table,
    Digest,
    AboutAccount,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OutboxEmail::Table)
                .add_column(string_null(OutboxEmail::Digest))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(OutboxEmail::Table)
                .add_column(string_null(OutboxEmail::AboutAccount))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OutboxEmail::Table)
                .drop_column(OutboxEmail::Digest)
                .drop_column(OutboxEmail::AboutAccount)
                .to_owned(),
        )
        .await
    }
}
