//! A code of a national code system (the ANS terminologies), carried as
//! FHIR's `Coding` is: the system's URL, the code, its label.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A code of a national code system, as FHIR's `Coding` carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Coding {
    /// The code system's URL.
    #[schema(
        example = "https://mos.esante.gouv.fr/NOS/TRE_R357-StatutPersonnePriseCharge/FHIR/TRE-R357-StatutPersonnePriseCharge"
    )]
    pub system: String,
    #[schema(example = "71")]
    pub code: String,
    /// The national label (ignored when sent: parcours gives the official one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}
