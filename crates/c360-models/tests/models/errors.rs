//! Mistakes in a project are errors that name the file, the line and a likely fix.

use std::collections::BTreeMap;

use c360_models::{compile, ModelError, Project};

use crate::{compile_fixture, temp_project};

#[test]
fn a_cycle_names_its_models() {
    let err = compile_fixture("cycle").unwrap_err();
    assert!(
        matches!(&err, ModelError::Cycle { cycle } if cycle == "a -> b -> a"),
        "{err}"
    );
    assert_eq!(err.to_string(), "dependency cycle: a -> b -> a");
}

#[test]
fn an_unknown_config_key_names_file_and_line() {
    let err = compile_fixture("unknown_config_key").unwrap_err();
    assert_eq!(
        err.to_string(),
        "models/silver/stg_orders.sql:3: in 'stg_orders': unknown config key 'uniqe_key' (did you mean 'unique_key'?)"
    );
    assert!(matches!(
        err,
        ModelError::UnknownConfigKey { line: Some(3), .. }
    ));
}

#[test]
fn a_misspelled_ref_suggests_the_close_name() {
    let err = compile_fixture("bad_ref").unwrap_err();
    assert_eq!(
        err.to_string(),
        "models/gold/dim_customer.sql:2: in 'dim_customer': model 'stg_customer' not found (did you mean 'stg_customers'?)"
    );
}

#[test]
fn an_undeclared_source_is_an_error() {
    let err = compile_fixture("unknown_source").unwrap_err();
    assert_eq!(
        err.to_string(),
        "models/silver/stg_transactions.sql:3: in 'stg_transactions': source 'bronze.transaction' is not \
         declared in any sources YAML (did you mean 'bronze.transactions'?)"
    );
}

fn compile_files(files: &[(&str, &str)]) -> ModelError {
    let dir = temp_project(files);
    match Project::load(dir.path()) {
        Err(e) => e,
        Ok(project) => compile(&project, &BTreeMap::new(), &|_| false).unwrap_err(),
    }
}

const TOML: (&str, &str) = ("c360.toml", "name = \"p\"\n");
const SOURCES: (&str, &str) = (
    "models/sources.yml",
    "sources:\n  - name: bronze\n    tables: [{name: t}]\n",
);

#[test]
fn stream_needs_an_incremental_model() {
    let err = compile_files(&[
        TOML,
        SOURCES,
        (
            "models/silver/a.sql",
            "select *\nfrom {{ stream('bronze', 't') }}\n",
        ),
    ]);
    assert!(
        matches!(err, ModelError::StreamNotAllowed { line: Some(2), .. }),
        "{err}"
    );
    // config() after stream(): caught once the file's configuration is known
    let err = compile_files(&[
        TOML,
        SOURCES,
        ("models/silver/a.sql", "{{ config(materialized='append') }}{{ stream('bronze', 't') }}\n{{ config(materialized='table') }}"),
    ]);
    assert!(
        matches!(err, ModelError::StreamNotAllowed { line: Some(1), .. }),
        "{err}"
    );
}

#[test]
fn missing_vars_and_invalid_combinations_are_reported() {
    let err = compile_files(&[TOML, ("models/a.sql", "select {{ var('as_of') }}")]);
    assert!(
        matches!(&err, ModelError::MissingVar { name, line: Some(1), .. } if name == "as_of"),
        "{err}"
    );
    let err = compile_files(&[
        TOML,
        (
            "models/a.sql",
            "\n{{ config(materialized='incremental') }}select 1",
        ),
    ]);
    assert!(
        matches!(&err, ModelError::InvalidConfig { line: Some(2), message, .. } if message.contains("unique_key")),
        "{err}"
    );
}

#[test]
fn yaml_mistakes_name_the_file_and_line() {
    let err = compile_files(&[
        TOML,
        ("models/a.sql", "select 1 as id"),
        (
            "models/a.yml",
            "models:\n  - name: a\n    config:\n      materialised: table\n",
        ),
    ]);
    assert!(
        matches!(&err, ModelError::PropertyFile { line: Some(4), .. }),
        "{err}"
    );
    assert!(err.to_string().starts_with("models/a.yml:4:"), "{err}");
    let err = compile_files(&[
        TOML,
        ("models/a.sql", "select 1 as id"),
        ("models/a.yml", "models:\n  - name: b\n"),
    ]);
    assert!(
        err.to_string()
            .starts_with("models/a.yml:2: properties for unknown model 'b'"),
        "{err}"
    );
    let err = compile_files(&[
        TOML,
        ("models/a.sql", "select 1 as id"),
        ("models/a.yml", "models:\n  - name: a\n    columns:\n      - name: id\n        tests:\n          - relationships: {to: \"ref('aa')\", field: id}\n"),
    ]);
    assert!(
        matches!(&err, ModelError::InvalidTest { message, .. } if message.contains("did you mean 'a'")),
        "{err}"
    );
}

#[test]
fn a_ref_to_a_disabled_model_is_an_error() {
    let err = compile_files(&[
        TOML,
        ("models/a.sql", "{{ config(enabled=false) }}select 1"),
        ("models/b.sql", "select * from {{ ref('a') }}"),
    ]);
    assert!(
        matches!(&err, ModelError::ModelDisabled { name, .. } if name == "a"),
        "{err}"
    );
}

#[test]
fn a_multi_line_config_call_reports_a_line_of_the_call() {
    let err = compile_files(&[
        TOML,
        (
            "models/a.sql",
            "-- header\n{{ config(\n    materialized='table',\n    partition_byy='d'\n) }}\nselect 1",
        ),
    ]);
    assert!(
        matches!(err, ModelError::UnknownConfigKey { line: Some(2), .. }),
        "{err}"
    );
}
