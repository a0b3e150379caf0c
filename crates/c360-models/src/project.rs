//! The loader: reads a project folder into a [`Project`] without interpreting any SQL.
//!
//! ```text
//! c360.toml              name, lake, [vars], [models] defaults per folder, [seeds]
//! models/**/*.sql        one model per file, named by the file stem
//! models/**/*.yml        property files: descriptions, columns, tests, config, sources
//! macros/*.sql           Jinja macros callable from every model and test
//! seeds/*.csv            reference tables (seeds/*.yml describe them)
//! tests/*.sql            singular tests: the rows a query returns are failures
//! ```
//!
//! Everything found is checked for names (identifiers, no duplicates) and every key for
//! spelling; what is found is kept in sorted maps so later phases iterate deterministically.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{ModelConfig, ModelLayer};
use crate::error::{closest, ModelError, Result};
use crate::project_file::{FolderDefaults, ProjectFile};
use crate::properties::{
    entry_line, ModelProperties, PropertyFile, SeedProperties, SourceTableProperties,
};

pub use crate::project_file::PROJECT_FILE;

/// A loaded project: files found and parsed, nothing rendered yet.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project folder.
    pub root: PathBuf,
    /// `name` from `c360.toml`.
    pub name: String,
    /// `lake` from `c360.toml`, relative to the project folder.
    pub lake: Option<PathBuf>,
    /// `[vars]`: defaults for `var()`.
    pub vars: BTreeMap<String, serde_json::Value>,
    /// The layer seeds are loaded into (`[seeds] layer`, default silver).
    pub seed_layer: ModelLayer,
    /// Models by name.
    pub models: BTreeMap<String, ModelFile>,
    /// Declared sources by name.
    pub sources: BTreeMap<String, Source>,
    /// Seeds by name.
    pub seeds: BTreeMap<String, Seed>,
    /// Macro files, by path.
    pub macros: Vec<MacroFile>,
    /// Singular tests by name.
    pub singular_tests: BTreeMap<String, SingularTest>,
    defaults: FolderDefaults,
}

/// One `models/**/*.sql` file.
#[derive(Debug, Clone)]
pub struct ModelFile {
    /// The file stem.
    pub name: String,
    /// Path relative to the project, with `/` separators.
    pub path: String,
    /// Folders between `models/` and the file.
    pub folders: Vec<String>,
    /// The file's text.
    pub raw_sql: String,
    /// What a property file says about it.
    pub properties: Option<ModelProperties>,
    /// That property file, and the line of the model's entry.
    pub properties_at: Option<(String, Option<usize>)>,
}

/// A declared source.
#[derive(Debug, Clone)]
pub struct Source {
    /// The source name (also the schema of its relations).
    pub name: String,
    /// Free text.
    pub description: String,
    /// The YAML file declaring it.
    pub path: String,
    /// Its tables by name.
    pub tables: BTreeMap<String, SourceTableProperties>,
}

/// One `seeds/*.csv` file.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The file stem.
    pub name: String,
    /// Path relative to the project.
    pub path: String,
    /// What a property file says about it.
    pub properties: Option<SeedProperties>,
    /// That property file.
    pub properties_path: Option<String>,
}

/// One `macros/*.sql` file.
#[derive(Debug, Clone)]
pub struct MacroFile {
    /// Path relative to the project (also its template name).
    pub path: String,
    /// The file's text.
    pub source: String,
    /// The macros it defines, in file order.
    pub names: Vec<String>,
}

/// One `tests/*.sql` file.
#[derive(Debug, Clone)]
pub struct SingularTest {
    /// The file stem.
    pub name: String,
    /// Path relative to the project.
    pub path: String,
    /// The file's text.
    pub raw_sql: String,
}

impl Project {
    /// Loads the project in `dir` (the folder holding `c360.toml`).
    pub fn load(dir: impl AsRef<Path>) -> Result<Project> {
        let root = dir.as_ref().to_path_buf();
        let text = read(&root.join(PROJECT_FILE))?;
        let parsed = ProjectFile::parse(&root, &text)?;

        let mut project = Project {
            name: parsed.name,
            lake: parsed.lake,
            vars: parsed.vars,
            seed_layer: parsed.seed_layer,
            models: BTreeMap::new(),
            sources: BTreeMap::new(),
            seeds: BTreeMap::new(),
            macros: Vec::new(),
            singular_tests: BTreeMap::new(),
            defaults: parsed.defaults,
            root,
        };
        let mut yaml_files = Vec::new();
        for path in walk(&project.root, "models")? {
            match path.rsplit_once('.').map(|(_, ext)| ext) {
                Some("sql") => project.add_model(path)?,
                Some("yml" | "yaml") => yaml_files.push(path),
                _ => {}
            }
        }
        for path in walk(&project.root, "seeds")? {
            match path.rsplit_once('.').map(|(_, ext)| ext) {
                Some("csv") => {
                    let name = stem(&path, "seed")?;
                    if let Some(model) = project.models.get(&name) {
                        return Err(duplicate("model or seed", &name, &model.path, &path));
                    }
                    if let Some(seed) = project.seeds.get(&name) {
                        return Err(duplicate("seed", &name, &seed.path, &path));
                    }
                    project.seeds.insert(
                        name.clone(),
                        Seed {
                            name,
                            path,
                            properties: None,
                            properties_path: None,
                        },
                    );
                }
                Some("yml" | "yaml") => yaml_files.push(path),
                _ => {}
            }
        }
        for path in yaml_files {
            project.add_properties(&path)?;
        }
        for path in walk(&project.root, "macros")? {
            if path.ends_with(".sql") {
                project.add_macros(path)?;
            }
        }
        for path in walk(&project.root, "tests")? {
            if path.ends_with(".sql") {
                let name = stem(&path, "test")?;
                if let Some(other) = project.singular_tests.get(&name) {
                    return Err(duplicate("test", &name, &other.path, &path));
                }
                let raw_sql = read(&project.root.join(&path))?;
                project.singular_tests.insert(
                    name.clone(),
                    SingularTest {
                        name,
                        path,
                        raw_sql,
                    },
                );
            }
        }
        Ok(project)
    }

    /// A model's configuration before its own `config()` call: `[models]`, then each folder
    /// level of `c360.toml`, then the property YAML.
    pub fn base_config(&self, model: &ModelFile) -> ModelConfig {
        let config = self.defaults.config_for(&model.folders);
        match model.properties.as_ref().and_then(|p| p.config.as_ref()) {
            Some(yaml) => config.merged(yaml),
            None => config,
        }
    }

    /// The layer a model writes to unless its config says otherwise.
    pub fn default_layer(&self, model: &ModelFile) -> ModelLayer {
        ModelLayer::for_first_folder(model.folders.first().map(String::as_str))
    }

    fn add_model(&mut self, path: String) -> Result<()> {
        let name = stem(&path, "model")?;
        if let Some(other) = self.models.get(&name) {
            return Err(duplicate("model", &name, &other.path, &path));
        }
        let raw_sql = read(&self.root.join(&path))?;
        let mut folders: Vec<String> = path.split('/').map(str::to_string).collect();
        folders.remove(0); // "models"
        folders.pop(); // the file
        let model = ModelFile {
            name: name.clone(),
            path,
            folders,
            raw_sql,
            properties: None,
            properties_at: None,
        };
        self.models.insert(name, model);
        Ok(())
    }

    fn add_properties(&mut self, path: &str) -> Result<()> {
        let text = read(&self.root.join(path))?;
        let file = PathBuf::from(path);
        let parsed: PropertyFile = if text.trim().is_empty() {
            PropertyFile::default()
        } else {
            serde_norway::from_str(&text).map_err(|e| ModelError::PropertyFile {
                file: file.clone(),
                line: e.location().map(|l| l.line()),
                message: e.to_string(),
            })?
        };
        for props in parsed.models {
            let line = entry_line(&text, &props.name);
            let Some(model) = self.models.get_mut(&props.name) else {
                return Err(ModelError::UnknownNodeInProperties {
                    file,
                    line,
                    what: "model",
                    suggestion: closest(&props.name, self.models.keys().map(String::as_str)),
                    name: props.name,
                });
            };
            if let Some((first, _)) = &model.properties_at {
                return Err(duplicate("properties of model", &props.name, first, path));
            }
            model.properties_at = Some((path.to_string(), line));
            model.properties = Some(props);
        }
        for props in parsed.seeds {
            let Some(seed) = self.seeds.get_mut(&props.name) else {
                return Err(ModelError::UnknownNodeInProperties {
                    line: entry_line(&text, &props.name),
                    file,
                    what: "seed",
                    suggestion: closest(&props.name, self.seeds.keys().map(String::as_str)),
                    name: props.name,
                });
            };
            if let Some(first) = &seed.properties_path {
                return Err(duplicate("properties of seed", &props.name, first, path));
            }
            seed.properties_path = Some(path.to_string());
            seed.properties = Some(props);
        }
        for source in parsed.sources {
            if let Some(other) = self.sources.get(&source.name) {
                return Err(duplicate("source", &source.name, &other.path, path));
            }
            let mut tables = BTreeMap::new();
            for table in source.tables {
                if tables.contains_key(&table.name) {
                    return Err(duplicate(
                        "source table",
                        &format!("{}.{}", source.name, table.name),
                        path,
                        path,
                    ));
                }
                tables.insert(table.name.clone(), table);
            }
            let entry = Source {
                name: source.name.clone(),
                description: source.description,
                path: path.to_string(),
                tables,
            };
            self.sources.insert(source.name, entry);
        }
        Ok(())
    }

    fn add_macros(&mut self, path: String) -> Result<()> {
        let source = read(&self.root.join(&path))?;
        let names = macro_names(&source);
        for name in &names {
            if crate::render::RESERVED_NAMES.contains(&name.as_str()) {
                return Err(ModelError::InvalidName {
                    file: path.into(),
                    what: "macro (reserved)",
                    name: name.clone(),
                });
            }
            if let Some(other) = self.macros.iter().find(|m| m.names.contains(name)) {
                return Err(duplicate("macro", name, &other.path, &path));
            }
        }
        self.macros.push(MacroFile {
            path,
            source,
            names,
        });
        Ok(())
    }
}

/// The names defined by `{% macro name(...) %}` in a macro file, in order.
fn macro_names(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = source;
    while let Some(i) = rest.find("{%") {
        rest = &rest[i + 2..];
        let t = rest.trim_start_matches(['-', '+']).trim_start();
        if let Some(after) = t.strip_prefix("macro") {
            if after.starts_with(char::is_whitespace) {
                let name: String = after
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// Files under `root/sub`, recursively, as `/`-separated paths relative to `root`, sorted.
/// A missing folder is empty; hidden entries are skipped.
fn walk(root: &Path, sub: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![sub.to_string()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && rel == sub => return Ok(out),
            Err(e) => return Err(ModelError::io(&dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| ModelError::io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = format!("{rel}/{name}");
            let kind = entry
                .file_type()
                .map_err(|e| ModelError::io(&entry.path(), e))?;
            if kind.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))
}

/// The file stem of `path`, which must be an identifier.
fn stem(path: &str, what: &'static str) -> Result<String> {
    let file = path.rsplit('/').next().unwrap_or(path);
    let name = file.rsplit_once('.').map_or(file, |(s, _)| s).to_string();
    if is_identifier(&name) {
        Ok(name)
    } else {
        Err(ModelError::InvalidName {
            file: path.into(),
            what,
            name,
        })
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn duplicate(what: &'static str, name: &str, first: &str, second: &str) -> ModelError {
    ModelError::DuplicateName {
        what,
        name: name.to_string(),
        first: first.into(),
        second: second.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<Project>) {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let loaded = Project::load(dir.path());
        (dir, loaded)
    }

    #[test]
    fn folder_defaults_apply_outer_to_inner_then_yaml() {
        let (_d, p) = project(&[
            ("c360.toml", "name = \"p\"\n[vars]\nas_of = 2025-11-14\n[models]\ntags = [\"all\"]\n[models.gold]\nmaterialized = \"table\"\n[models.gold.marts]\ntags = \"marts\"\n"),
            ("models/gold/marts/m.sql", "select 1"),
            ("models/gold/marts/m.yml", "models:\n  - name: m\n    config: {materialized: view}\n"),
            ("models/other/o.sql", "select 1"),
        ]);
        let p = p.unwrap();
        let m = &p.models["m"];
        assert_eq!(m.folders, ["gold", "marts"]);
        let cfg = p.base_config(m);
        assert_eq!(cfg.materialized, Some(crate::Materialization::View));
        assert_eq!(cfg.tags, Some(vec!["all".into(), "marts".into()]));
        assert_eq!(p.default_layer(m), ModelLayer::Gold);
        assert_eq!(p.default_layer(&p.models["o"]), ModelLayer::Gold);
        assert_eq!(p.vars["as_of"], serde_json::json!("2025-11-14"));
    }

    #[test]
    fn project_file_mistakes_name_the_line() {
        let (_d, p) = project(&[("c360.toml", "name = \"p\"\nlakes = \"x\"\n")]);
        let err = p.unwrap_err();
        assert!(
            matches!(err, ModelError::ProjectFile { line: Some(2), .. }),
            "{err}"
        );
        let (_d, p) = project(&[
            (
                "c360.toml",
                "name = \"p\"\n[models.silver]\nmaterialised = \"table\"\n",
            ),
            ("models/silver/a.sql", "select 1"),
        ]);
        let err = p.unwrap_err();
        assert!(
            matches!(&err, ModelError::UnknownConfigKey { line: Some(3), suggestion: Some(s), .. } if s == "materialized"),
            "{err}"
        );
        let (_d, p) = project(&[(
            "c360.toml",
            "name = \"p\"\n[models.silvr]\nmaterialized = \"table\"\n",
        )]);
        assert!(p
            .unwrap_err()
            .to_string()
            .contains("no folder models/silvr"));
    }

    #[test]
    fn duplicates_and_unknown_yaml_entries_are_errors() {
        let (_d, p) = project(&[
            ("c360.toml", "name = \"p\"\n"),
            ("models/silver/a.sql", "select 1"),
            ("models/gold/a.sql", "select 1"),
        ]);
        let err = p.unwrap_err().to_string();
        assert!(
            err.contains("models/gold/a.sql") && err.contains("models/silver/a.sql"),
            "{err}"
        );
        let (_d, p) = project(&[
            ("c360.toml", "name = \"p\"\n"),
            ("models/a.sql", "select 1"),
            ("models/a.yml", "models:\n  - name: a\n  - name: b\n"),
        ]);
        let err = p.unwrap_err();
        assert!(
            matches!(
                &err,
                ModelError::UnknownNodeInProperties { line: Some(3), .. }
            ),
            "{err}"
        );
        assert!(err.to_string().starts_with("models/a.yml:3:"), "{err}");
    }

    #[test]
    fn macro_names_are_found() {
        assert_eq!(
            macro_names("{% macro a(x) %}{% endmacro %}\n{%- macro b_2() -%}{%- endmacro %}"),
            ["a", "b_2"]
        );
    }
}
