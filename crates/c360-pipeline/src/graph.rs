//! The task graph of a pipeline: dependencies, cycle detection, descendants, and the order in
//! which a run starts tasks. Pure: no processes, no clock, no I/O.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Task;

/// Tasks and their `after` dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskGraph {
    /// task → the tasks it waits for.
    upstream: BTreeMap<String, BTreeSet<String>>,
    /// task → the tasks waiting for it.
    downstream: BTreeMap<String, BTreeSet<String>>,
}

impl TaskGraph {
    /// The graph of `tasks` (every `after` must name one of them).
    pub fn new(tasks: &BTreeMap<String, Task>) -> TaskGraph {
        let mut upstream: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut downstream: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for task in tasks.values() {
            upstream.entry(task.name.clone()).or_default();
            downstream.entry(task.name.clone()).or_default();
            for dep in &task.after {
                upstream.get_mut(&task.name).unwrap().insert(dep.clone());
                downstream
                    .entry(dep.clone())
                    .or_default()
                    .insert(task.name.clone());
            }
        }
        TaskGraph {
            upstream,
            downstream,
        }
    }

    /// Every task name, sorted.
    pub fn tasks(&self) -> impl Iterator<Item = &String> {
        self.upstream.keys()
    }

    /// A dependency cycle as `a, b, ..., a`, if there is one.
    pub fn find_cycle(&self) -> Option<Vec<String>> {
        // Colours: absent = unvisited, false = on the current path, true = done.
        fn visit(
            graph: &TaskGraph,
            node: &str,
            colour: &mut BTreeMap<String, bool>,
            path: &mut Vec<String>,
        ) -> Option<Vec<String>> {
            colour.insert(node.to_string(), false);
            path.push(node.to_string());
            for dep in graph.upstream.get(node).into_iter().flatten() {
                match colour.get(dep) {
                    Some(false) => {
                        let start = path.iter().position(|p| p == dep).unwrap();
                        let mut cycle = path[start..].to_vec();
                        cycle.push(dep.clone());
                        return Some(cycle);
                    }
                    Some(true) => {}
                    None => {
                        if let Some(cycle) = visit(graph, dep, colour, path) {
                            return Some(cycle);
                        }
                    }
                }
            }
            path.pop();
            colour.insert(node.to_string(), true);
            None
        }
        let mut colour = BTreeMap::new();
        for node in self.upstream.keys() {
            if !colour.contains_key(node) {
                if let Some(cycle) = visit(self, node, &mut colour, &mut Vec::new()) {
                    return Some(cycle);
                }
            }
        }
        None
    }

    /// Every task that (transitively) waits for `task`.
    pub fn descendants(&self, task: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut todo: Vec<&String> = self.downstream.get(task).into_iter().flatten().collect();
        while let Some(next) = todo.pop() {
            if out.insert(next.clone()) {
                todo.extend(self.downstream.get(next).into_iter().flatten());
            }
        }
        out
    }

    /// Tasks in an order where every task comes after its dependencies (ties by name).
    pub fn topological_order(&self) -> Vec<String> {
        let mut progress = self.progress(&self.upstream.keys().cloned().collect());
        let mut order = Vec::new();
        loop {
            let ready = progress.ready();
            if ready.is_empty() {
                break;
            }
            for task in ready {
                progress.complete(&task, true);
                order.push(task);
            }
        }
        order
    }

    /// Tracks one run over `planned` tasks. Dependencies outside `planned` count as already
    /// satisfied (a retry plans only what failed last time).
    pub fn progress(&self, planned: &BTreeSet<String>) -> RunProgress {
        let waiting = planned
            .iter()
            .map(|t| {
                let deps = self.upstream[t]
                    .iter()
                    .filter(|d| planned.contains(*d))
                    .cloned()
                    .collect();
                (t.clone(), deps)
            })
            .collect();
        RunProgress {
            graph: self.clone(),
            waiting,
        }
    }
}

/// Which planned tasks can start, as tasks complete.
#[derive(Debug, Clone)]
pub struct RunProgress {
    graph: TaskGraph,
    /// Not yet started → unfinished dependencies.
    waiting: BTreeMap<String, BTreeSet<String>>,
}

impl RunProgress {
    /// Tasks whose dependencies all succeeded, removed from the waiting set (sorted by name).
    pub fn ready(&mut self) -> Vec<String> {
        let ready: Vec<String> = self
            .waiting
            .iter()
            .filter(|(_, deps)| deps.is_empty())
            .map(|(t, _)| t.clone())
            .collect();
        for t in &ready {
            self.waiting.remove(t);
        }
        ready
    }

    /// Records that `task` finished. On failure, returns the waiting tasks that can now never
    /// run (its descendants), which are removed.
    pub fn complete(&mut self, task: &str, succeeded: bool) -> Vec<String> {
        if succeeded {
            for deps in self.waiting.values_mut() {
                deps.remove(task);
            }
            return Vec::new();
        }
        let doomed: Vec<String> = self
            .graph
            .descendants(task)
            .into_iter()
            .filter(|t| self.waiting.contains_key(t))
            .collect();
        for t in &doomed {
            self.waiting.remove(t);
        }
        doomed
    }

    /// Tasks not started yet (all of them are dropped when a run is cancelled).
    pub fn take_waiting(&mut self) -> Vec<String> {
        std::mem::take(&mut self.waiting).into_keys().collect()
    }

    /// Whether every planned task has been handed out or dropped.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Action, Task};
    use std::time::Duration;

    fn graph(edges: &[(&str, &[&str])]) -> TaskGraph {
        let tasks = edges
            .iter()
            .map(|(name, after)| {
                (
                    name.to_string(),
                    Task {
                        name: name.to_string(),
                        after: after.iter().map(|s| s.to_string()).collect(),
                        action: Action::Shell("true".into()),
                        timeout: Duration::from_secs(1),
                        retries: 0,
                        retry_delay: Duration::ZERO,
                    },
                )
            })
            .collect();
        TaskGraph::new(&tasks)
    }

    #[test]
    fn siblings_are_ready_together_and_a_join_waits_for_both() {
        let g = graph(&[("a", &[]), ("b", &["a"]), ("c", &["a"]), ("d", &["b", "c"])]);
        let mut p = g.progress(&g.tasks().cloned().collect());
        assert_eq!(p.ready(), ["a"]);
        assert!(p.ready().is_empty());
        p.complete("a", true);
        assert_eq!(p.ready(), ["b", "c"]);
        p.complete("b", true);
        assert!(p.ready().is_empty(), "d waits for c");
        p.complete("c", true);
        assert_eq!(p.ready(), ["d"]);
        assert_eq!(g.topological_order(), ["a", "b", "c", "d"]);
    }

    #[test]
    fn a_failure_drops_only_its_descendants() {
        let g = graph(&[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["a"]),
            ("d", &["b"]),
            ("e", &["c"]),
        ]);
        let mut p = g.progress(&g.tasks().cloned().collect());
        p.ready();
        p.complete("a", true);
        assert_eq!(p.ready(), ["b", "c"]);
        assert_eq!(p.complete("b", false), ["d"]);
        p.complete("c", true);
        assert_eq!(p.ready(), ["e"]);
        assert!(p.is_empty());
    }

    #[test]
    fn dependencies_outside_the_plan_are_satisfied() {
        let g = graph(&[("a", &[]), ("b", &["a"]), ("c", &["b"])]);
        let mut p = g.progress(&["b".to_string(), "c".to_string()].into());
        assert_eq!(p.ready(), ["b"]);
    }

    #[test]
    fn cycles_are_found() {
        let g = graph(&[("a", &["c"]), ("b", &["a"]), ("c", &["b"]), ("d", &[])]);
        let cycle = g.find_cycle().unwrap();
        assert_eq!(cycle.first(), cycle.last());
        assert_eq!(cycle.len(), 4);
        assert!(graph(&[("a", &[]), ("b", &["a"])]).find_cycle().is_none());
    }
}
