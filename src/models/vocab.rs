//! Controlled vocabularies (OGP's and ours), stored as snake_case text.

use std::fmt;
use std::str::FromStr;

/// Declares a string-valued vocabulary with its stored names and a parse error that lists them.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "{other:?} is not one of {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

vocabulary! {
    /// OGP values, as the OGP commitments export names them (`OGP Value …` columns).
    OgpValue {
        AccessToInformation => "access_to_information",
        CivicParticipation => "civic_participation",
        PublicAccountability => "public_accountability",
        /// "Technology and Innovation for Transparency and Accountability".
        TechnologyAndInnovation => "technology_and_innovation",
    }
}

vocabulary! {
    /// Where a milestone stands. Unknown is `null`, never a guess.
    MilestoneStatus {
        NotStarted => "not_started",
        InProgress => "in_progress",
        Complete => "complete",
    }
}

vocabulary! {
    /// What an institution does for a plan, commitment or milestone.
    Role {
        Lead => "lead",
        Supporting => "supporting",
        Involved => "involved",
        Coordinator => "coordinator",
        MonitoringBody => "monitoring_body",
        Funder => "funder",
        Contractor => "contractor",
        CoCreationParticipant => "co_creation_participant",
    }
}

vocabulary! {
    InstitutionKind {
        ExecutiveBody => "executive_body",
        CommunalEnterprise => "communal_enterprise",
        MunicipalInstitution => "municipal_institution",
        CityCouncil => "city_council",
        ExecutiveCommittee => "executive_committee",
        Cso => "cso",
        Academia => "academia",
        InternationalOrg => "international_org",
        PrivateCompany => "private_company",
        Library => "library",
        WorkingGroup => "working_group",
        DonorProgramme => "donor_programme",
        Association => "association",
        Other => "other",
    }
}

vocabulary! {
    /// OGP / IRM monitoring documents.
    AssessmentKind {
        InceptionReport => "inception_report",
        EndOfCommitmentReport => "end_of_commitment_report",
        ActionPlanReview => "action_plan_review",
        ResultsReport => "results_report",
        SelfAssessment => "self_assessment",
    }
}

vocabulary! {
    /// IRM "Potential for results" (plans from 2020 on).
    PotentialForResults {
        Unclear => "unclear",
        Modest => "modest",
        Substantial => "substantial",
    }
}

vocabulary! {
    /// IRM completion levels.
    Completion {
        NoEvidenceAvailable => "no_evidence_available",
        NotStarted => "not_started",
        Limited => "limited",
        Substantial => "substantial",
        Complete => "complete",
    }
}

vocabulary! {
    /// IRM early results: "Did it open government?".
    DidItOpenGovernment {
        Worsened => "worsened",
        DidNotChange => "did_not_change",
        Marginal => "marginal",
        Major => "major",
        Outstanding => "outstanding",
    }
}

vocabulary! {
    Channel {
        Offline => "offline",
        Online => "online",
    }
}

vocabulary! {
    /// How exact a reported count is ("more than 30 invitations").
    CountQualifier {
        Exact => "exact",
        MoreThan => "more_than",
        AtLeast => "at_least",
    }
}

vocabulary! {
    OversightBodyStatus {
        ToBeDetermined => "to_be_determined",
        Named => "named",
    }
}

/// Parses a stored vocabulary value; a value the loader would have refused reads as unknown.
pub fn parse_stored<T: FromStr>(value: Option<&str>) -> Option<T> {
    value.and_then(|v| v.parse().ok())
}

vocabulary! {
    /// How often a dataset is updated: the values of Ukraine's resolution 835 passport, mapped to
    /// the EU Publications Office frequency authority codes (DCAT-AP `dct:accrualPeriodicity`).
    UpdateFrequency {
        Continuous => "continuous",
        Daily => "daily",
        Weekly => "weekly",
        Monthly => "monthly",
        Quarterly => "quarterly",
        Biannual => "biannual",
        Annual => "annual",
        Irregular => "irregular",
        Never => "never",
    }
}

impl UpdateFrequency {
    /// The resolution 835 wording.
    pub fn label_835(self) -> &'static str {
        match self {
            UpdateFrequency::Continuous => "Більш як один раз на день",
            UpdateFrequency::Daily => "Щодня",
            UpdateFrequency::Weekly => "Щотижня",
            UpdateFrequency::Monthly => "Щомісяця",
            UpdateFrequency::Quarterly => "Щокварталу",
            UpdateFrequency::Biannual => "Кожного півріччя",
            UpdateFrequency::Annual => "Щороку",
            UpdateFrequency::Irregular => "Відразу після внесення змін",
            UpdateFrequency::Never => "Більше не оновлюється",
        }
    }

    /// The EU frequency authority code.
    pub fn eu_code(self) -> &'static str {
        match self {
            UpdateFrequency::Continuous => "CONT",
            UpdateFrequency::Daily => "DAILY",
            UpdateFrequency::Weekly => "WEEKLY",
            UpdateFrequency::Monthly => "MONTHLY",
            UpdateFrequency::Quarterly => "QUARTERLY",
            UpdateFrequency::Biannual => "BIANNUAL",
            UpdateFrequency::Annual => "ANNUAL",
            UpdateFrequency::Irregular => "IRREG",
            UpdateFrequency::Never => "NEVER",
        }
    }
}
