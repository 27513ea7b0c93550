//! SQL views, declared by hand: `diesel print-schema` writes tables only.

diesel::table! {
    /// The pathways each partner organization follows, and since when:
    /// from its accepted referral or its commitment, never those of a
    /// person who objected to sharing (migration `000011_referral_triage`).
    partner_pathways (organization_id, pathway_id) {
        organization_id -> Uuid,
        pathway_id -> Uuid,
        since -> Timestamptz,
    }
}

use crate::db::schema::{pathways, territories};

diesel::joinable!(partner_pathways -> pathways (pathway_id));
diesel::allow_tables_to_appear_in_same_query!(partner_pathways, pathways);
diesel::allow_tables_to_appear_in_same_query!(partner_pathways, territories);
