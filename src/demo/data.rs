//! Reference lists for demo data: names, Hautes-Alpes communes by
//! territory, labels. Plausible, not real people.

use crate::domain::Domain;

pub const FAMILY_NAMES: &[&str] = &[
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefèvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Lefebvre",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Garcia",
    "Perrin",
    "Robin",
    "Clément",
    "Morin",
    "Nicolas",
    "Henry",
    "Roussel",
    "Mathieu",
    "Gautier",
    "Masson",
    "Marchand",
    "Duval",
    "Denis",
    "Dumont",
    "Marie",
    "Lemaire",
    "Noël",
    "Meyer",
    "Dufour",
    "Meunier",
    "Brun",
    "Blanchard",
    "Giraud",
    "Joly",
    "Rivière",
    "Lucas",
    "Brunet",
    "Gaillard",
    "Barbier",
    "Arnaud",
    "Martinez",
    "Gérard",
    "Roche",
    "Renard",
    "Schmitt",
    "Roy",
    "Leroux",
    "Colin",
    "Vidal",
    "Caron",
    "Picard",
    "Roger",
    "Fabre",
    "Aubert",
    "Lemoine",
    "Renaud",
    "Dumas",
    "Lacroix",
    "Olivier",
    "Philippe",
    "Bourgeois",
    "Pierre",
    "Benoît",
    "Rey",
    "Leclerc",
    "Payet",
    "Rolland",
    "Leclercq",
    "Guillaume",
    "Lecomte",
    "Achard",
    "Eyraud",
    "Reynaud",
    "Chabrand",
    "Bellon",
    "Jouve",
    "Motte",
    "Queyras",
    "Escallier",
];

pub const FEMALE_NAMES: &[&str] = &[
    "Marie",
    "Jeanne",
    "Louise",
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Emma",
    "Jade",
    "Lina",
    "Zoé",
    "Anne",
    "Catherine",
    "Isabelle",
    "Nathalie",
    "Sylvie",
    "Christine",
    "Monique",
    "Françoise",
    "Hélène",
    "Martine",
    "Sophie",
    "Julie",
    "Aurélie",
    "Élodie",
    "Sandrine",
    "Céline",
    "Odette",
    "Yvette",
    "Simone",
    "Germaine",
    "Lucienne",
    "Paulette",
];

pub const MALE_NAMES: &[&str] = &[
    "Jean",
    "Pierre",
    "Michel",
    "André",
    "Philippe",
    "Alain",
    "Bernard",
    "Jacques",
    "Daniel",
    "Patrick",
    "Nicolas",
    "Christophe",
    "Stéphane",
    "Laurent",
    "Julien",
    "Thomas",
    "Lucas",
    "Hugo",
    "Louis",
    "Gabriel",
    "Léo",
    "Raphaël",
    "Arthur",
    "Jules",
    "Adam",
    "Noah",
    "Marcel",
    "René",
    "Roger",
    "Robert",
    "Henri",
    "Georges",
    "Émile",
    "Maurice",
];

/// A commune: INSEE code and name.
pub type Commune = (&'static str, &'static str);

/// Communes of the Hautes-Alpes for each territory code, with the
/// territory's share of the département's population in percent.
pub const COMMUNES: &[(&str, &[Commune], u32)] = &[
    (
        "05-GAP",
        &[
            ("05061", "Gap"),
            ("05170", "Tallard"),
            ("05017", "La Bâtie-Neuve"),
        ],
        40,
    ),
    (
        "05-BRI",
        &[
            ("05023", "Briançon"),
            ("05006", "L'Argentière-la-Bessée"),
            ("05079", "Le Monêtier-les-Bains"),
        ],
        20,
    ),
    (
        "05-EMB",
        &[
            ("05046", "Embrun"),
            ("05040", "Chorges"),
            ("05065", "Guillestre"),
            ("05164", "Savines-le-Lac"),
        ],
        18,
    ),
    (
        "05-BUE",
        &[
            ("05179", "Veynes"),
            ("05070", "Laragne-Montéglin"),
            ("05166", "Serres"),
        ],
        14,
    ),
    (
        "05-CHA",
        &[
            ("05132", "Saint-Bonnet-en-Champsaur"),
            ("05096", "Orcières"),
        ],
        8,
    ),
];

/// Share of pathways in each domain, in percent.
pub const DOMAIN_WEIGHTS: &[(Domain, u32)] = &[
    (Domain::Disability, 40),
    (Domain::Elderly, 30),
    (Domain::Childhood, 15),
    (Domain::Insertion, 15),
];

/// Age range (years) of the people followed in a domain.
pub fn ages(domain: Domain) -> (u32, u32) {
    match domain {
        Domain::Disability => (2, 80),
        Domain::Elderly => (62, 99),
        Domain::Childhood => (0, 17),
        Domain::Insertion => (18, 64),
    }
}

pub fn decision_labels(domain: Domain) -> &'static [&'static str] {
    match domain {
        Domain::Disability => &[
            "Orientation en IME",
            "Orientation en FAM",
            "Orientation en MAS",
            "Orientation en SAVS",
            "Accompagnement SESSAD",
        ],
        Domain::Elderly => &[
            "Entrée en EHPAD",
            "Accueil de jour",
            "Aide à domicile APA",
            "Hébergement temporaire",
        ],
        Domain::Childhood => &[
            "Placement en MECS",
            "Accueil familial",
            "Action éducative en milieu ouvert",
            "Accueil en lieu de vie",
        ],
        Domain::Insertion => &[
            "Parcours emploi compétences",
            "Accompagnement socioprofessionnel",
            "Chantier d'insertion",
            "Formation qualifiante",
        ],
    }
}

pub const OUTCOMES: &[&str] = &[
    "Réponse alternative en attendant une place",
    "Accueil séquentiel entre deux structures",
    "Renfort de l'accompagnement à domicile",
    "Saisine de l'ARS pour une solution dérogatoire",
];

pub const COMMITMENTS: &[(&str, &str)] = &[
    (
        "Maintien des droits et versement des prestations",
        "mensuel",
    ),
    ("Accueil de jour deux jours par semaine", "hebdomadaire"),
    ("Visite à domicile du référent", "mensuel"),
    ("Bilan d'évaluation", "ponctuel"),
];

/// Fictitious facilities (FINESS numbers of the département's range, none
/// real) and the domain whose orientations they receive; `seed-demo`
/// creates them as organizations of kind `facility`.
pub const FACILITIES: &[(&str, &str, Domain)] = &[
    ("IME Les Écrins (démo)", "050900011", Domain::Disability),
    ("FAM du Champsaur (démo)", "050900029", Domain::Disability),
    ("MAS de l'Embrunais (démo)", "050900037", Domain::Disability),
    ("SESSAD du Buëch (démo)", "050900045", Domain::Disability),
    ("ESAT du Gapençais (démo)", "050900052", Domain::Disability),
    ("EHPAD Les Edelweiss (démo)", "050900060", Domain::Elderly),
    ("EHPAD du Briançonnais (démo)", "050900078", Domain::Elderly),
    (
        "Accueil de jour du Queyras (démo)",
        "050900086",
        Domain::Elderly,
    ),
    ("MECS Les Mélèzes (démo)", "050900094", Domain::Childhood),
    (
        "Lieu de vie du Dévoluy (démo)",
        "050900102",
        Domain::Childhood,
    ),
];

/// Why demo facilities refuse (codes of JDV_J251 that ASS_A32 gives
/// « admission impossible »), with their weights.
pub const REFUSAL_REASONS: &[(&str, u32)] = &[
    ("114", 40),
    ("113", 20),
    ("115", 15),
    ("116", 10),
    ("86", 10),
    ("122", 5),
];
