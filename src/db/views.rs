//! SQL views, declared by hand: `diesel print-schema` writes tables only.

diesel::table! {
    /// The pathways each partner organization follows: those it referred
    /// and those in whose plan it holds a commitment, never those of a
    /// person who objected to sharing (migration `000006_webhooks`).
    partner_pathways (organization_id, pathway_id) {
        organization_id -> Uuid,
        pathway_id -> Uuid,
    }
}

use crate::db::schema::pathways;

diesel::allow_tables_to_appear_in_same_query!(partner_pathways, pathways);
