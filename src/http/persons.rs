//! `/v1/persons`: the people the département follows. Staff of the person's
//! territory read and change them; the NIR is shown masked only.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::record;
use crate::auth::policy::WorkOnCases;
use crate::db::pathways::{self, Elsewhere};
use crate::db::persons::{self, Candidate, NewPerson, Person, PersonChanges, Probe, Search};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::nir::Nir;
use crate::domain::validation::{Checks, is_digits, is_msa_number};
use crate::domain::values::{self, CommuneCode};
use crate::domain::{Domain, PathwayStatus, Sex};
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::etag::{IfMatch, tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::state::AppState;
use crate::privacy::{PersonalDataKeys, SealedNir};
use crate::services;
use crate::services::persons::Recorded;

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonView {
    pub id: Uuid,
    #[schema(example = "Martin")]
    pub family_name: String,
    #[schema(example = "Léa Marie")]
    pub given_names: String,
    pub birth_date: NaiveDate,
    pub sex: Option<Sex>,
    /// INSEE code of the commune of residence.
    #[schema(example = "05061")]
    pub commune_insee: String,
    pub territory_id: Uuid,
    /// CAF « matricule allocataire » (7 digits).
    pub caf_number: Option<String>,
    pub msa_number: Option<String>,
    /// Who legally represents the person (guardian, parent), if anyone.
    pub legal_representative: Option<String>,
    /// The person objected to sharing with partners: partners never see them.
    pub sharing_objection: bool,
    /// The NIR, masked: sex, year and month of birth and key only.
    #[schema(example = "1 85 05 ** *** *** 42")]
    pub nir: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PersonView {
    pub fn new(person: Person, keys: &PersonalDataKeys) -> Self {
        let nir = person.nir_ciphertext.as_deref().map(|sealed| {
            keys.decrypt_nir(person.id, sealed)
                .map(|nir| nir.masked())
                // A ciphertext this key cannot open: say so, never guess.
                .unwrap_or_else(|| "unreadable".to_owned())
        });
        Self {
            id: person.id,
            family_name: person.family_name,
            given_names: person.given_names,
            birth_date: person.birth_date,
            sex: person.sex,
            commune_insee: person.commune_insee,
            territory_id: person.territory_id,
            caf_number: person.caf_number,
            msa_number: person.msa_number,
            legal_representative: person.legal_representative,
            sharing_objection: person.sharing_objection,
            nir,
            created_at: person.created_at,
            updated_at: person.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePerson {
    pub family_name: String,
    pub given_names: String,
    #[serde(deserialize_with = "values::date")]
    pub birth_date: NaiveDate,
    pub sex: Option<Sex>,
    #[schema(example = "05061")]
    pub commune_insee: CommuneCode,
    /// One of your territories.
    pub territory_id: Uuid,
    pub caf_number: Option<String>,
    pub msa_number: Option<String>,
    pub legal_representative: Option<String>,
    #[serde(default)]
    pub sharing_objection: bool,
    /// 15 characters, spaces allowed; checked with its control key, stored
    /// encrypted, never returned in clear.
    #[schema(example = "1 85 05 78 006 084 91")]
    pub nir: Option<String>,
}

/// Absent fields stay as they are; `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePerson {
    pub family_name: Option<String>,
    pub given_names: Option<String>,
    #[serde(default, deserialize_with = "values::optional_date")]
    pub birth_date: Option<NaiveDate>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<Sex>)]
    pub sex: Option<Option<Sex>>,
    pub commune_insee: Option<CommuneCode>,
    pub territory_id: Option<Uuid>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub caf_number: Option<Option<String>>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub msa_number: Option<Option<String>>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub legal_representative: Option<Option<String>>,
    pub sharing_objection: Option<bool>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub nir: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreateOptions {
    /// `true` creates the person even though similar persons exist (after
    /// checking the candidates of the 409).
    #[serde(default)]
    pub confirm_new: bool,
}

/// What `GET /v1/persons` refuses: a search names a person, and personal
/// data never travels in a URL, which proxies and access logs keep. These
/// parameters answer 400 naming them; the search goes in the body of
/// `POST /v1/persons/search`.
#[derive(Debug, Deserialize)]
pub struct PersonSearch {
    pub q: Option<serde::de::IgnoredAny>,
    pub birth_date: Option<serde::de::IgnoredAny>,
    pub caf_number: Option<serde::de::IgnoredAny>,
    pub msa_number: Option<serde::de::IgnoredAny>,
    pub nir: Option<serde::de::IgnoredAny>,
}

/// A search of persons in your territories, any criteria together.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchPersons {
    /// Name. Each of its words (up to five) is matched to the words of the
    /// names, accents and case folded, tolerating small typos ("dupond"
    /// finds "Dupont") and beginnings ("mar" finds "Martin"); every word
    /// must match. With `q` alone, the best `limit` matches come first (the
    /// same words before near ones, then the closest whole name) and there
    /// is no next page; anonymised persons have no name to find. With other
    /// criteria, the persons meeting them whose whole name is close.
    pub q: Option<String>,
    #[serde(default, deserialize_with = "values::optional_date")]
    pub birth_date: Option<NaiveDate>,
    /// 7 digits.
    pub caf_number: Option<String>,
    pub msa_number: Option<String>,
    /// The full NIR (exact match, through its blind index).
    pub nir: Option<String>,
}

/// A person who may be the same as another.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonCandidate {
    pub person: PersonView,
    /// 1 for the same NIR; otherwise from name similarity, plus the same
    /// birth date or partner number.
    #[schema(example = 0.92)]
    pub score: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Candidates {
    /// Most alike first.
    pub items: Vec<PersonCandidate>,
}

fn respond(status: StatusCode, person: Person, keys: &PersonalDataKeys) -> HttpResponse {
    let (version, id) = (person.version, person.id);
    tagged(
        status,
        version,
        "/v1/persons",
        id,
        PersonView::new(person, keys),
    )
}

fn not_found() -> ApiError {
    persons::not_found().into()
}

fn candidates_view(found: Vec<Candidate>, keys: &PersonalDataKeys) -> Vec<PersonCandidate> {
    found
        .into_iter()
        .map(|c| PersonCandidate {
            person: PersonView::new(c.person, keys),
            score: c.score,
        })
        .collect()
}

fn check_birth_date(checks: &mut Checks, birth_date: NaiveDate) {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    if birth_date < earliest || birth_date > Utc::now().date_naive() {
        checks.fail("birth_date", "must be between 1900-01-01 and today");
    }
}

fn check_caf(checks: &mut Checks, value: &str) -> String {
    checks.pattern("caf_number", value, |v| is_digits(v, 7), "7 digits")
}

fn check_msa(checks: &mut Checks, value: &str) -> String {
    checks.pattern(
        "msa_number",
        value,
        is_msa_number,
        "6 to 20 digits or capital letters",
    )
}

fn check_nir(checks: &mut Checks, value: &str) -> Option<Nir> {
    match Nir::parse(value) {
        Ok(nir) => Some(nir),
        Err(why) => {
            checks.fail("nir", why);
            None
        }
    }
}

/// List the persons of your territories, in creation order.
///
/// To search (by name, birth date, NIR, CAF or MSA number), send the
/// criteria in the body of `POST /v1/persons/search`: they name a person,
/// and personal data never travels in a URL (proxies and access logs keep
/// URLs). `q`, `birth_date`, `nir`, `caf_number` or `msa_number` here
/// answer 400 naming each one.
#[utoipa::path(
    tag = "persons",
    params(PageParams),
    responses(
        (status = 200, description = "One page of persons, in creation order.", body = Page<PersonView>),
    )
)]
#[get("")]
pub async fn search(
    caller: Authorized<WorkOnCases>,
    page: Query<PageParams>,
    filters: Query<PersonSearch>,
    state: web::Data<AppState>,
) -> Result<web::Json<Page<PersonView>>, ApiError> {
    let filters = filters.into_inner();
    let in_url = [
        ("q", filters.q.is_some()),
        ("birth_date", filters.birth_date.is_some()),
        ("nir", filters.nir.is_some()),
        ("caf_number", filters.caf_number.is_some()),
        ("msa_number", filters.msa_number.is_some()),
    ];
    ApiError::refuse_in_url(&in_url, "POST /v1/persons/search")?;
    let criteria = SearchPersons {
        q: None,
        birth_date: None,
        caf_number: None,
        msa_number: None,
        nir: None,
    };
    find(&caller, page.validate()?, criteria, &state).await
}

/// Search persons in your territories, by name, birth date, NIR, CAF or
/// MSA number (any together): they travel in the body, never in a URL.
/// Audited as a search, each term as a keyed hash.
#[utoipa::path(
    tag = "persons",
    params(PageParams),
    request_body = SearchPersons,
    responses(
        (status = 200, description = "Matching persons: best matches first with `q`, else in creation order.", body = Page<PersonView>),
    )
)]
#[post("/search")]
pub async fn search_by_body(
    caller: Authorized<WorkOnCases>,
    page: Query<PageParams>,
    body: Json<SearchPersons>,
    state: web::Data<AppState>,
) -> Result<web::Json<Page<PersonView>>, ApiError> {
    find(&caller, page.validate()?, body.0, &state).await
}

async fn find(
    caller: &Authorized<WorkOnCases>,
    page: crate::db::PageRequest,
    criteria: SearchPersons,
    state: &AppState,
) -> Result<web::Json<Page<PersonView>>, ApiError> {
    let mut checks = Checks::new();
    let name = criteria
        .q
        .as_deref()
        .map(|q| checks.text("q", q, 200))
        .filter(|q| !q.is_empty());
    let nir = criteria
        .nir
        .as_deref()
        .and_then(|n| check_nir(&mut checks, n));
    let caf_number = criteria
        .caf_number
        .as_deref()
        .map(|v| check_caf(&mut checks, v));
    let msa_number = criteria
        .msa_number
        .as_deref()
        .map(|v| check_msa(&mut checks, v));
    checks.finish()?;
    let ranked = name.is_some();
    let wanted = Search {
        name,
        birth_date: criteria.birth_date,
        caf_number,
        msa_number,
        nir_index: nir.map(|nir| state.privacy.nir_index(&nir)),
    };
    // What was looked for, for the audit trail: each term as a keyed hash
    // (an auditor finds it with `GET /v1/audit?searched=`), never in clear;
    // of a NIR, only that one was given.
    let keys = &state.privacy;
    let term = |value: Option<String>| value.map(|v| keys.search_term(&v));
    let asked = serde_json::json!({
        "q_ref": term(wanted.name.clone()),
        "birth_date_ref": term(wanted.birth_date.map(|d| d.to_string())),
        "caf_number_ref": term(wanted.caf_number.clone()),
        "msa_number_ref": term(wanted.msa_number.clone()),
        "nir": wanted.nir_index.is_some(),
    });
    let mut conn = state.pool.get().await?;
    let record = record::listing(
        caller.audit(),
        caller.principal(),
        AuditAction::Search,
        AuditTarget::Person,
        asked,
    );
    let rows = persons::search(&mut conn, caller.principal(), &wanted, page, &record).await?;
    let views: Vec<PersonView> = rows
        .into_iter()
        .map(|p| PersonView::new(p, &state.privacy))
        .collect();
    if ranked {
        return Ok(web::Json(Page {
            items: views,
            next_cursor: None,
        }));
    }
    Ok(web::Json(Page::from_rows(views, page, |p| p.id)))
}

/// Record a person. If persons with a close name and the same birth date (or
/// the same NIR or partner number) are already known, answers 409 with them
/// as `candidates`, unless `confirm_new=true`. The same NIR twice is always 409.
#[utoipa::path(
    tag = "persons",
    params(CreateOptions),
    request_body = CreatePerson,
    responses(
        (status = 201, description = "Created.", body = PersonView, headers(("ETag" = String), ("Location" = String))),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[post("")]
pub async fn create(
    caller: Authorized<WorkOnCases>,
    options: Query<CreateOptions>,
    body: Json<CreatePerson>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let who = caller.principal();
    let body = body.0;
    let mut checks = Checks::new();
    let family_name = checks.text("family_name", &body.family_name, 200);
    let given_names = checks.text("given_names", &body.given_names, 200);
    check_birth_date(&mut checks, body.birth_date);
    let commune_insee = body.commune_insee.into_string();
    let caf_number = body
        .caf_number
        .as_deref()
        .map(|v| check_caf(&mut checks, v));
    let msa_number = body
        .msa_number
        .as_deref()
        .map(|v| check_msa(&mut checks, v));
    let legal_representative = body
        .legal_representative
        .as_deref()
        .map(|v| checks.text("legal_representative", v, 300));
    let nir = body.nir.as_deref().and_then(|n| check_nir(&mut checks, n));
    checks.finish()?;
    who.own_territory("territory_id", body.territory_id)?;

    let id = Uuid::now_v7();
    let keys = &state.privacy;
    let (nir_ciphertext, nir_index) =
        SealedNir::columns(nir.as_ref().map(|nir| keys.seal_nir(id, nir)));
    let new = NewPerson {
        id,
        family_name,
        given_names,
        birth_date: body.birth_date,
        sex: body.sex,
        commune_insee,
        territory_id: body.territory_id,
        caf_number,
        msa_number,
        legal_representative,
        sharing_objection: body.sharing_objection,
        nir_ciphertext,
        nir_index,
    };
    let mut conn = caller.conn().await?;
    let recorded =
        services::persons::record(&mut conn, caller.acting(), new, options.confirm_new).await?;
    let person = match recorded {
        Recorded::Person(person) => *person,
        Recorded::PossibleDuplicates(found) => {
            let candidates = candidates_view(found, keys);
            return Err(ApiError::PossibleDuplicate {
                detail: format!(
                    "{} known person(s) look like this one. If none of them is the same \
                     person, send the request again with `?confirm_new=true`.",
                    candidates.len()
                ),
                candidates: serde_json::to_value(candidates)
                    .map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?,
            });
        }
    };
    Ok(respond(StatusCode::CREATED, person, keys))
}

/// Read a person of your territories.
#[utoipa::path(
    tag = "persons",
    responses(
        (status = 200, description = "The person.", body = PersonView, headers(("ETag" = String))),
    )
)]
#[get("/{id}")]
pub async fn read(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = caller.conn().await?;
    let record = record::reading(caller.audit(), caller.principal(), AuditTarget::Person, *id);
    let person = persons::find(&mut conn, caller.principal(), *id, Some(&record))
        .await?
        .ok_or_else(not_found)?;
    Ok(respond(StatusCode::OK, person, &state.privacy))
}

/// Change a person. Requires `If-Match`. Moving a person to another
/// territory needs both territories to be yours: a person outside yours
/// answers 404, a `territory_id` outside yours 422 naming it.
#[utoipa::path(
    tag = "persons",
    request_body = UpdatePerson,
    params(IfMatch),
    responses(
        (status = 200, description = "Updated.", body = PersonView, headers(("ETag" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[patch("/{id}")]
pub async fn update(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    body: Json<UpdatePerson>,
    if_match: IfMatch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let who = caller.principal();
    let body = body.0;
    let mut checks = Checks::new();
    let family_name = body
        .family_name
        .as_deref()
        .map(|v| checks.text("family_name", v, 200));
    let given_names = body
        .given_names
        .as_deref()
        .map(|v| checks.text("given_names", v, 200));
    if let Some(birth_date) = body.birth_date {
        check_birth_date(&mut checks, birth_date);
    }
    let commune_insee = body.commune_insee.map(CommuneCode::into_string);
    let caf_number = body
        .caf_number
        .map(|v| v.map(|v| check_caf(&mut checks, &v)));
    let msa_number = body
        .msa_number
        .map(|v| v.map(|v| check_msa(&mut checks, &v)));
    let legal_representative = body
        .legal_representative
        .map(|v| v.map(|v| checks.text("legal_representative", &v, 300)));
    let nir = body.nir.map(|v| v.and_then(|v| check_nir(&mut checks, &v)));
    checks.finish()?;
    if let Some(territory) = body.territory_id {
        who.own_territory("territory_id", territory)?;
    }
    let keys = &state.privacy;
    // Given: set (or cleared, `null`); absent: kept.
    let (nir_ciphertext, nir_index) = match nir.as_ref() {
        Some(nir) => {
            let (ciphertext, index) =
                SealedNir::columns(nir.as_ref().map(|nir| keys.seal_nir(*id, nir)));
            (Some(ciphertext), Some(index))
        }
        None => (None, None),
    };
    let changes = PersonChanges {
        family_name,
        given_names,
        birth_date: body.birth_date,
        sex: body.sex,
        commune_insee,
        territory_id: body.territory_id,
        caf_number,
        msa_number,
        legal_representative,
        sharing_objection: body.sharing_objection,
        nir_ciphertext,
        nir_index,
    };
    let mut conn = caller.conn().await?;
    let person =
        services::persons::update(&mut conn, caller.acting(), *id, version, &changes).await?;
    Ok(respond(StatusCode::OK, person, keys))
}

/// Persons of your territories who are likely the same as this one, most
/// alike first: the same NIR, or a close name with the same birth date or
/// partner number.
#[utoipa::path(
    tag = "persons",
    responses(
        (status = 200, description = "Likely duplicates, with a score.", body = Candidates),
    )
)]
#[get("/{id}/duplicates")]
pub async fn duplicates(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<web::Json<Candidates>, ApiError> {
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let record = record::reading(caller.audit(), who, AuditTarget::Person, *id);
    let person = persons::find(&mut conn, who, *id, Some(&record))
        .await?
        .ok_or_else(not_found)?;
    let keys = &state.privacy;
    let probe = Probe {
        exclude: Some(person.id),
        full_name: format!("{} {}", person.family_name, person.given_names),
        birth_date: person.birth_date,
        caf_number: person.caf_number.clone(),
        msa_number: person.msa_number.clone(),
        nir_index: person
            .nir_ciphertext
            .as_deref()
            .and_then(|sealed| keys.decrypt_nir(person.id, sealed))
            .map(|nir| keys.nir_index(&nir)),
    };
    let asked = serde_json::json!({ "duplicates_of": person.id });
    let record = record::listing(
        caller.audit(),
        who,
        AuditAction::List,
        AuditTarget::Person,
        asked,
    );
    let found = persons::candidates(&mut conn, who, &probe, &record).await?;
    Ok(web::Json(Candidates {
        items: candidates_view(found, keys),
    }))
}

/// Where a person is followed outside your domains and territories.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OtherPathways {
    /// The person's open pathways you do not see, one per domain at most,
    /// in domain order; empty when there is none.
    pub items: Vec<OtherPathway>,
}

/// An open pathway you may know exists but not read (CASF L226-2-2, the
/// strictly necessary): its domain, where it stands and who to call. Its
/// notes, decisions, plans and history stay with its own team.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OtherPathway {
    /// To name it as `continues_from` when you open the next pathway;
    /// reading it answers 404 outside your domains and territories.
    pub pathway_id: Uuid,
    pub domain: Domain,
    pub status: PathwayStatus,
    /// When the current status began.
    pub status_since: DateTime<Utc>,
    /// Followed there since.
    pub opened_on: NaiveDate,
    /// The service that follows it.
    pub territory: ServiceRef,
    /// Absent while nobody is its referent.
    pub referent: Option<ReferentContact>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceRef {
    pub id: Uuid,
    #[schema(example = "Gapençais")]
    pub name: String,
}

/// Who to call about the pathway.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReferentContact {
    #[schema(example = "Claire Roux")]
    pub name: String,
    #[schema(example = "claire.roux@hautes-alpes.example")]
    pub email: String,
}

impl From<Elsewhere> for OtherPathway {
    fn from(row: Elsewhere) -> Self {
        Self {
            pathway_id: row.id,
            domain: row.domain,
            status: row.status,
            status_since: row.status_since,
            opened_on: row.opened_on,
            territory: ServiceRef {
                id: row.territory_id,
                name: row.territory_name,
            },
            referent: row
                .referent_name
                .zip(row.referent_email)
                .map(|(name, email)| ReferentContact { name, email }),
        }
    }
}

/// Where a person of your territories is followed outside your domains
/// and territories: each open pathway's domain, status, since when, the
/// service and the referent to call — nothing else (no notes, decisions,
/// plans or history). Each look is audited as `read_other_pathways`, with
/// the pathways shown; a person who objected to sharing is shown too (the
/// objection concerns partners, not the département's staff).
#[utoipa::path(
    tag = "persons",
    responses(
        (status = 200, description = "The person's open pathways outside your scope.", body = OtherPathways),
    )
)]
#[get("/{id}/other-pathways")]
pub async fn other_pathways(
    caller: Authorized<WorkOnCases>,
    id: web::Path<Uuid>,
) -> Result<web::Json<OtherPathways>, ApiError> {
    let who = caller.principal();
    let mut conn = caller.conn().await?;
    let action = AuditAction::ReadOtherPathways;
    let person = persons::find(&mut conn, who, *id, None)
        .await
        .map_err(crate::db::Error::from)
        .and_then(|found| found.ok_or_else(persons::not_found));
    let target = (AuditTarget::Person, Some(*id));
    let person = record::settled(&mut conn, caller.audit(), who, action, target, person).await?;
    let record = record::about(caller.audit(), who, action, AuditTarget::Person, person.id);
    let rows = pathways::elsewhere(&mut conn, who, person.id, &record).await?;
    Ok(web::Json(OtherPathways {
        items: rows.into_iter().map(OtherPathway::from).collect(),
    }))
}
