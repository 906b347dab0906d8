//! The rule-file schema: plain serde types, shared with `build.rs` (which precompiles the embedded
//! pack), so this file depends on nothing else in the crate.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A rule file as written on disk: one provider, its remediation, and its rules.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Display name of the provider ("AWS", "GitHub").
    pub provider: String,
    /// What to do when a credential of this provider is found.
    pub remediation: Remediation,
    /// The detection rules.
    #[serde(default)]
    pub rules: Vec<RawRule>,
}

/// Provider-level remediation shown with every finding of the provider.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct Remediation {
    /// Where exactly to revoke the credential (console URL, CLI or API call).
    pub revoke: String,
    /// How to rotate without downtime.
    pub rotate: String,
    /// The provider's documentation link.
    pub docs: String,
}

/// A rule as written in YAML, before validation.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// Unique id, lowercase `[a-z0-9-]`.
    pub id: String,
    /// One-line description ("AWS access key ID").
    pub description: String,
    /// Regex (Rust `regex` syntax, bytes API).
    pub regex: String,
    /// Literals that must occur for the rule to run (ASCII case-insensitive).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Capture group holding the secret (index or name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_group: Option<GroupRef>,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_entropy: Option<f64>,
    /// Offline checksum the secret must carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum>,
    /// Regexes tested against the secret: a match suppresses the finding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Regexes over the line that holds the secret: a match lowers the finding's confidence to
    /// `low` (a key that is public by design in that context, such as a browser config).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub demote_when: Vec<String>,
    /// The match may span lines (PEM blocks).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiline: bool,
    /// How bad a leak is.
    #[serde(default)]
    pub severity: Severity,
    /// How sure a match is to be a real secret; with `block_at`, decides what blocks.
    #[serde(default)]
    pub confidence: Confidence,
    /// Texts the rule must find (run through the full scanner by tests and `rules check`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// Texts the rule must not find.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub negative_examples: Vec<String>,
}

/// A capture group given by index or by name.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum GroupRef {
    /// Group number (0 is the whole match).
    Index(usize),
    /// Group name.
    Name(String),
}

/// Severity of a leak of this kind of credential.
#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Default, Hash,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Little harm alone (public-ish identifiers paired with secrets, test credentials).
    Low,
    /// Limited scope credentials.
    Medium,
    /// Credentials that grant access (the default).
    #[default]
    High,
    /// Account-wide or infrastructure-wide access, private keys, live payment keys.
    Critical,
}

impl Severity {
    /// The lowercase name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How likely a match of a rule is to be a live secret rather than a look-alike.
#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Default, Hash,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A shape that often matches non-secrets (generic names, values without structure): shown
    /// as a warning and recorded under the default `block_at: medium`.
    Low,
    /// Contextual rules: a secret-sounding name with a plausible value (the default).
    #[default]
    Medium,
    /// A distinctive prefix, a fixed format or a checksum: almost never anything else.
    High,
}

impl Confidence {
    /// The lowercase name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A checksum verifier a rule can name with `checksum:`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub enum Checksum {
    /// GitHub / npm style: after the last `_`, N random characters then 6 characters that are
    /// the CRC32 of the random characters in base62 (`0-9A-Za-z`), left-padded with `0`.
    #[serde(rename = "crc32-base62")]
    Crc32Base62,
    /// GitLab routable tokens: the last 7 characters are the CRC32 of everything before them
    /// (prefix included) in lowercase base36, left-padded with `0`.
    #[serde(rename = "crc32-base36-suffix7")]
    Crc32Base36Suffix7,
    /// Grafana service-account tokens `glsa_<32>_<8 hex>`: the hex is the CRC32 of `glsa_<32>`,
    /// its bytes in little-endian order.
    #[serde(rename = "crc32-hex-le-suffix8")]
    Crc32HexLeSuffix8,
    /// Atlassian API tokens: the last 8 characters are the CRC32 of everything before them, as
    /// uppercase big-endian hex.
    #[serde(rename = "crc32-hex-upper-suffix8")]
    Crc32HexUpperSuffix8,
    /// Bech32 (BIP-173) strings such as age secret keys: `<hrp>1<data><6 checksum chars>`.
    #[serde(rename = "bech32")]
    Bech32,
    /// Microsoft's identifiable keys (Azure Storage `+ASt`, Cosmos DB `ACDb`, Service Bus `+ASb`,
    /// Event Hubs `+AEh`, Relay `+ARm`, APIM `APIM`, Functions `AzFu`, ...): the value is base64
    /// (standard or URL-safe alphabet, padding optional) of at least 24 bytes whose last 4 bytes
    /// are the little-endian Marvin32 of the bytes before them, under one of the checksum seeds
    /// Microsoft publishes for these keys. The rule's regex pins the 4-character signature that
    /// precedes the 6 checksum characters.
    #[serde(rename = "azure-identifiable")]
    AzureIdentifiable,
}
