//! A change of email address waits for the new address to be confirmed: the token sent
//! there carries the address it confirms (`account_token.new_email`).

// async_trait expands the signature; its elided lifetime cannot be written out here.
#![allow(elided_lifetimes_in_paths)]

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text_null;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000026_email_change"
    }
}

#[derive(DeriveIden)]
enum AccountToken {
    Table,
    NewEmail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Expand only: a nullable column, empty for every other kind of token.
        m.alter_table(
            Table::alter()
                .table(AccountToken::Table)
                .add_column(text_null(AccountToken::NewEmail))
                .to_owned(),
        )
        .await
    }
}
