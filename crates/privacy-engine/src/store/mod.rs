//! Tenant-scoped persistence for the privacy engine (consent ledger, notice versions,
//! disposal records). Tables arrive with the issues that need them; each is tenant-owned
//! and reached only through `storage::Db::tenant_tx`.
