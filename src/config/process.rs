//! Process-wide settings set through the C API (`h5blob_config_set`): consulted before the
//! environment, under the environment's own names (`AZURE_STORAGE_ACCOUNT_NAME`,
//! `HS_ENDPOINT`, `H5BLOB_CACHE_SIZE`, ...). For callers that cannot or should not change
//! the process environment (.NET, multi-threaded programs: `setenv` is not thread-safe).

use std::collections::BTreeMap;
use std::sync::{LazyLock, RwLock};

static SET: LazyLock<RwLock<BTreeMap<String, String>>> = LazyLock::new(Default::default);

/// A setting: the value set in this process, else the environment variable.
pub fn var(name: &str) -> Option<String> {
    let set = SET.read().unwrap_or_else(|e| e.into_inner());
    set.get(name).cloned().or_else(|| std::env::var(name).ok())
}

/// A setting only if it was set in this process (not from the environment).
pub fn set_here(name: &str) -> Option<String> {
    SET.read()
        .unwrap_or_else(|e| e.into_inner())
        .get(name)
        .cloned()
}

/// A variable of the environment only.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Whether `name` can name a setting: non-empty, no `=`, no NUL, no whitespace.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['=', '\0']) && !name.chars().any(char::is_whitespace)
}

/// Sets (`Some`) or removes (`None`: the environment applies again) a setting.
pub fn set(name: &str, value: Option<&str>) {
    let mut set = SET.write().unwrap_or_else(|e| e.into_inner());
    match value {
        Some(v) => set.insert(name.to_string(), v.to_string()),
        None => set.remove(name),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_values_win_over_the_environment_and_can_be_removed() {
        let name = "H5BLOB_PROCESS_TEST_SETTING";
        assert_eq!(var(name), None);
        set(name, Some("a=b;c"));
        assert_eq!(var(name).as_deref(), Some("a=b;c"));
        set(name, None);
        assert_eq!(var(name), None);
        assert_eq!(var("PATH"), std::env::var("PATH").ok());
        assert!(valid_name("HS_ENDPOINT"));
        assert!(!valid_name("") && !valid_name("A=B") && !valid_name("A B"));
    }
}
