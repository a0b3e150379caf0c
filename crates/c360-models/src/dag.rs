//! A dependency graph over any ordered node id, with no I/O: topological order, cycle reports,
//! ancestors and descendants, waves of independent nodes, and a [`Scheduler`] that hands out
//! ready nodes and skips the descendants of failures.
//!
//! Every result is deterministic: ties are broken by id order.
//!
//! ```
//! use c360_models::{Dag, DagError};
//!
//! let dag = Dag::new([("b", vec!["a"]), ("c", vec!["a"]), ("d", vec!["b", "c"]), ("a", vec![])]).unwrap();
//! assert_eq!(dag.topo_order(), ["a", "b", "c", "d"]);
//! assert_eq!(dag.waves(), [vec!["a"], vec!["b", "c"], vec!["d"]]);
//!
//! let mut run = dag.scheduler();
//! assert_eq!(run.ready(), ["a"]);
//! assert!(run.complete(&"a", true).is_empty());
//! assert_eq!(run.ready(), ["b", "c"]);
//! assert_eq!(run.complete(&"b", false), ["d"]); // d is skipped, c still runs
//!
//! let err = Dag::new([("a", vec!["b"]), ("b", vec!["a"])]).unwrap_err();
//! assert_eq!(err, DagError::Cycle(vec!["a", "b", "a"]));
//! ```

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

/// Why a graph could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DagError<Id> {
    /// A cycle, starting and ending at its smallest id: `[a, b, a]`.
    Cycle(Vec<Id>),
    /// A node depends on an id that is not a node.
    UnknownDependency {
        /// The dependent node.
        node: Id,
        /// The missing dependency.
        dependency: Id,
    },
}

impl<Id: fmt::Display> fmt::Display for DagError<Id> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DagError::Cycle(ids) => {
                let parts: Vec<String> = ids.iter().map(ToString::to_string).collect();
                write!(f, "dependency cycle: {}", parts.join(" -> "))
            }
            DagError::UnknownDependency { node, dependency } => {
                write!(f, "{node} depends on unknown node {dependency}")
            }
        }
    }
}

/// An acyclic dependency graph. Edges point from a node to the nodes it depends on (parents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dag<Id: Ord> {
    parents: BTreeMap<Id, BTreeSet<Id>>,
    children: BTreeMap<Id, BTreeSet<Id>>,
}

impl<Id: Ord + Clone> Dag<Id> {
    /// Builds the graph from `(node, dependencies)` pairs. Every dependency must be a node;
    /// the graph must be acyclic.
    pub fn new<D>(nodes: impl IntoIterator<Item = (Id, D)>) -> Result<Dag<Id>, DagError<Id>>
    where
        D: IntoIterator<Item = Id>,
    {
        let mut parents: BTreeMap<Id, BTreeSet<Id>> = BTreeMap::new();
        for (id, deps) in nodes {
            parents.entry(id).or_default().extend(deps);
        }
        let mut children: BTreeMap<Id, BTreeSet<Id>> = parents
            .keys()
            .map(|k| (k.clone(), BTreeSet::new()))
            .collect();
        for (id, deps) in &parents {
            for dep in deps {
                match children.get_mut(dep) {
                    Some(c) => {
                        c.insert(id.clone());
                    }
                    None => {
                        return Err(DagError::UnknownDependency {
                            node: id.clone(),
                            dependency: dep.clone(),
                        });
                    }
                }
            }
        }
        let dag = Dag { parents, children };
        match dag.find_cycle() {
            Some(cycle) => Err(DagError::Cycle(cycle)),
            None => Ok(dag),
        }
    }

    /// Every node, in id order.
    pub fn nodes(&self) -> impl Iterator<Item = &Id> {
        self.parents.keys()
    }

    /// Whether `id` is a node.
    pub fn contains(&self, id: &Id) -> bool {
        self.parents.contains_key(id)
    }

    /// The direct dependencies of `id`.
    pub fn parents(&self, id: &Id) -> impl Iterator<Item = &Id> {
        self.parents.get(id).into_iter().flatten()
    }

    /// The direct dependents of `id`.
    pub fn children(&self, id: &Id) -> impl Iterator<Item = &Id> {
        self.children.get(id).into_iter().flatten()
    }

    /// Every node once, each after all its dependencies; among ready nodes the smallest id
    /// first.
    pub fn topo_order(&self) -> Vec<Id> {
        let mut remaining: BTreeMap<&Id, usize> =
            self.parents.iter().map(|(k, v)| (k, v.len())).collect();
        let mut ready: BTreeSet<&Id> = remaining
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(k, _)| *k)
            .collect();
        let mut out = Vec::with_capacity(self.parents.len());
        while let Some(id) = ready.pop_first() {
            out.push(id.clone());
            for child in &self.children[id] {
                let n = remaining.get_mut(child).expect("child is a node");
                *n -= 1;
                if *n == 0 {
                    ready.insert(child);
                }
            }
        }
        out
    }

    /// Groups of nodes that can run together: wave 0 has no dependencies, wave k depends only
    /// on earlier waves (each node in the earliest wave it can be in). Each wave is sorted.
    pub fn waves(&self) -> Vec<Vec<Id>> {
        let mut level: BTreeMap<&Id, usize> = BTreeMap::new();
        let mut waves: Vec<Vec<Id>> = Vec::new();
        for id in self.topo_order() {
            let l = self.parents[&id]
                .iter()
                .map(|p| level[p] + 1)
                .max()
                .unwrap_or(0);
            let key = self.parents.get_key_value(&id).expect("node").0;
            level.insert(key, l);
            if waves.len() <= l {
                waves.resize_with(l + 1, Vec::new);
            }
            waves[l].push(id);
        }
        for w in &mut waves {
            w.sort();
        }
        waves
    }

    /// Each node's height: the number of nodes on the longest path from it down to a node
    /// nothing depends on (1 for such a node). A run starts the highest ready nodes first, so
    /// the longest chain of dependencies is never kept waiting behind a leaf.
    pub fn heights(&self) -> BTreeMap<Id, usize> {
        let mut height: BTreeMap<Id, usize> = BTreeMap::new();
        for id in self.topo_order().into_iter().rev() {
            let h = 1 + self.children[&id]
                .iter()
                .map(|c| height[c])
                .max()
                .unwrap_or(0);
            height.insert(id, h);
        }
        height
    }

    /// Everything `id` depends on, directly or not (without `id`).
    pub fn ancestors(&self, id: &Id) -> BTreeSet<Id> {
        self.reach(id, &self.parents)
    }

    /// Everything that depends on `id`, directly or not (without `id`).
    pub fn descendants(&self, id: &Id) -> BTreeSet<Id> {
        self.reach(id, &self.children)
    }

    fn reach(&self, id: &Id, edges: &BTreeMap<Id, BTreeSet<Id>>) -> BTreeSet<Id> {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<&Id> = edges.get(id).into_iter().flatten().collect();
        while let Some(next) = queue.pop_front() {
            if seen.insert(next.clone()) {
                queue.extend(edges.get(next).into_iter().flatten());
            }
        }
        seen
    }

    /// The graph restricted to `keep` (how a selection runs): a kept node depends on its
    /// nearest kept ancestors, so an order that runs through nodes left out — an ephemeral
    /// model inlined into its dependents, a model not selected — still holds; dependencies
    /// with no kept node above them are treated as already satisfied.
    pub fn subgraph(&self, keep: &BTreeSet<Id>) -> Dag<Id> {
        let mut parents: BTreeMap<Id, BTreeSet<Id>> = BTreeMap::new();
        let mut children: BTreeMap<Id, BTreeSet<Id>> = BTreeMap::new();
        for k in self.parents.keys().filter(|k| keep.contains(*k)) {
            children.entry(k.clone()).or_default();
            let mut nearest = BTreeSet::new();
            let mut seen = BTreeSet::new();
            let mut todo: Vec<&Id> = self.parents[k].iter().collect();
            while let Some(p) = todo.pop() {
                if !seen.insert(p) {
                    continue;
                }
                if keep.contains(p) {
                    nearest.insert(p.clone());
                } else {
                    todo.extend(self.parents[p].iter());
                }
            }
            parents.insert(k.clone(), nearest);
        }
        for (k, ps) in &parents {
            for p in ps {
                children.entry(p.clone()).or_default().insert(k.clone());
            }
        }
        Dag { parents, children }
    }

    /// A scheduler over every node of the graph.
    pub fn scheduler(&self) -> Scheduler<Id> {
        let waiting = self
            .parents
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect::<BTreeMap<_, _>>();
        let ready = waiting
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(k, _)| k.clone())
            .collect();
        Scheduler {
            children: self.children.clone(),
            waiting,
            ready,
            state: self
                .parents
                .keys()
                .map(|k| (k.clone(), NodeState::Waiting))
                .collect(),
        }
    }

    /// One cycle, rotated to start at its smallest id and closed (`[a, b, a]`), if any.
    fn find_cycle(&self) -> Option<Vec<Id>> {
        // Iterative DFS over parents; colour 1 = on the stack, 2 = done.
        let mut colour: BTreeMap<&Id, u8> = BTreeMap::new();
        for start in self.parents.keys() {
            if colour.contains_key(start) {
                continue;
            }
            let mut stack: Vec<(&Id, Vec<&Id>)> =
                vec![(start, self.parents[start].iter().rev().collect())];
            colour.insert(start, 1);
            while let Some((node, pending)) = stack.last_mut() {
                let node = *node;
                match pending.pop() {
                    Some(next) => match colour.get(next) {
                        Some(1) => {
                            let pos = stack
                                .iter()
                                .position(|(n, _)| *n == next)
                                .expect("on stack");
                            let mut cycle: Vec<Id> =
                                stack[pos..].iter().map(|(n, _)| (*n).clone()).collect();
                            // Edges point to dependencies; report in data-flow order (a -> b
                            // means b depends on a), so reverse, then rotate to the smallest id.
                            cycle.reverse();
                            let min = cycle
                                .iter()
                                .enumerate()
                                .min_by(|a, b| a.1.cmp(b.1))
                                .map(|(i, _)| i)
                                .unwrap_or(0);
                            cycle.rotate_left(min);
                            cycle.push(cycle[0].clone());
                            return Some(cycle);
                        }
                        Some(_) => {}
                        None => {
                            colour.insert(next, 1);
                            stack.push((next, self.parents[next].iter().rev().collect()));
                        }
                    },
                    None => {
                        colour.insert(node, 2);
                        stack.pop();
                    }
                }
            }
        }
        None
    }
}

/// Where a node is in a scheduled run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Dependencies not finished yet (or ready, not handed out yet).
    Waiting,
    /// Handed out by [`Scheduler::ready`].
    Running,
    /// Completed successfully.
    Succeeded,
    /// Completed with a failure.
    Failed,
    /// Not run because a dependency failed or was skipped.
    Skipped,
}

/// Hands out nodes whose dependencies all succeeded, so independent nodes run in parallel:
/// call [`ready`](Scheduler::ready), run what it returns (in any order, on any threads),
/// report each with [`complete`](Scheduler::complete), repeat until
/// [`is_finished`](Scheduler::is_finished).
#[derive(Debug, Clone)]
pub struct Scheduler<Id: Ord> {
    children: BTreeMap<Id, BTreeSet<Id>>,
    /// Unfinished dependencies per node.
    waiting: BTreeMap<Id, usize>,
    ready: BTreeSet<Id>,
    state: BTreeMap<Id, NodeState>,
}

impl<Id: Ord + Clone> Scheduler<Id> {
    /// Nodes that became ready since the last call, in id order; they are now running.
    pub fn ready(&mut self) -> Vec<Id> {
        let out: Vec<Id> = std::mem::take(&mut self.ready).into_iter().collect();
        for id in &out {
            self.state.insert(id.clone(), NodeState::Running);
        }
        out
    }

    /// Records the outcome of a running node. On failure, returns every node skipped because
    /// of it (its descendants not yet finished), in id order. Ids that are not running are
    /// ignored.
    pub fn complete(&mut self, id: &Id, ok: bool) -> Vec<Id> {
        if self.state.get(id) != Some(&NodeState::Running) {
            return Vec::new();
        }
        if ok {
            self.state.insert(id.clone(), NodeState::Succeeded);
            for child in &self.children[id] {
                let n = self.waiting.get_mut(child).expect("child is a node");
                *n -= 1;
                if *n == 0 && self.state[child] == NodeState::Waiting {
                    self.ready.insert(child.clone());
                }
            }
            return Vec::new();
        }
        self.state.insert(id.clone(), NodeState::Failed);
        let mut skipped = BTreeSet::new();
        let mut queue: VecDeque<&Id> = self.children[id].iter().collect();
        while let Some(next) = queue.pop_front() {
            if self.state[next] == NodeState::Waiting && skipped.insert(next.clone()) {
                queue.extend(self.children[next].iter());
            }
        }
        for s in &skipped {
            self.state.insert(s.clone(), NodeState::Skipped);
            self.ready.remove(s);
        }
        skipped.into_iter().collect()
    }

    /// Whether every node succeeded, failed or was skipped.
    pub fn is_finished(&self) -> bool {
        self.state.values().all(|s| {
            matches!(
                s,
                NodeState::Succeeded | NodeState::Failed | NodeState::Skipped
            )
        })
    }

    /// Whether some node is handed out and not completed.
    pub fn has_running(&self) -> bool {
        self.state.values().any(|s| *s == NodeState::Running)
    }

    /// The state of one node.
    pub fn state(&self, id: &Id) -> Option<NodeState> {
        self.state.get(id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diamond() -> Dag<&'static str> {
        // a -> b -> d, a -> c -> d, e alone, f after d
        Dag::new([
            ("a", vec![]),
            ("b", vec!["a"]),
            ("c", vec!["a"]),
            ("d", vec!["b", "c"]),
            ("e", vec![]),
            ("f", vec!["d"]),
        ])
        .unwrap()
    }

    #[test]
    fn order_and_waves_are_deterministic() {
        let dag = diamond();
        assert_eq!(dag.topo_order(), ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(
            dag.waves(),
            [vec!["a", "e"], vec!["b", "c"], vec!["d"], vec!["f"]]
        );
        assert_eq!(dag.ancestors(&"d"), BTreeSet::from(["a", "b", "c"]));
        assert_eq!(dag.descendants(&"b"), BTreeSet::from(["d", "f"]));
        assert!(dag.descendants(&"e").is_empty());
    }

    #[test]
    fn cycles_are_reported_from_their_smallest_node() {
        let err = Dag::new([
            ("x", vec![]),
            ("c", vec!["b"]),
            ("b", vec!["a"]),
            ("a", vec!["c", "x"]),
        ])
        .unwrap_err();
        assert_eq!(err, DagError::Cycle(vec!["a", "b", "c", "a"]));
        assert_eq!(err.to_string(), "dependency cycle: a -> b -> c -> a");
        assert_eq!(
            Dag::new([("a", vec!["a"])]).unwrap_err(),
            DagError::Cycle(vec!["a", "a"])
        );
        assert!(matches!(
            Dag::new([("a", vec!["zz"])]),
            Err(DagError::UnknownDependency { .. })
        ));
    }

    #[test]
    fn scheduler_skips_descendants_of_failures_and_releases_the_rest() {
        let dag = diamond();
        let mut s = dag.scheduler();
        assert_eq!(s.ready(), ["a", "e"]);
        assert!(s.ready().is_empty());
        assert!(s.complete(&"a", true).is_empty());
        assert_eq!(s.ready(), ["b", "c"]);
        assert_eq!(s.complete(&"c", false), ["d", "f"]);
        assert!(s.complete(&"b", true).is_empty());
        assert!(s.ready().is_empty(), "d depends on the failed c");
        assert!(!s.is_finished());
        s.complete(&"e", true);
        assert!(s.is_finished() && !s.has_running());
        assert_eq!(s.state(&"f"), Some(NodeState::Skipped));
        assert_eq!(s.state(&"c"), Some(NodeState::Failed));
    }

    #[test]
    fn subgraphs_drop_outside_dependencies() {
        let dag = diamond();
        let sub = dag.subgraph(&BTreeSet::from(["d", "f"]));
        assert_eq!(sub.waves(), [vec!["d"], vec!["f"]]);
    }

    #[test]
    fn heights_count_the_longest_chain_below_each_node() {
        let h = diamond().heights();
        assert_eq!(h[&"a"], 4);
        assert_eq!((h[&"b"], h[&"c"], h[&"d"]), (3, 3, 2));
        assert_eq!((h[&"e"], h[&"f"]), (1, 1));
    }

    #[test]
    fn subgraphs_keep_orders_that_run_through_left_out_nodes() {
        // a -> b -> d -> f with b and d left out: f still waits for a, and a failed a skips f
        let dag = diamond();
        let sub = dag.subgraph(&BTreeSet::from(["a", "e", "f"]));
        assert_eq!(sub.waves(), [vec!["a", "e"], vec!["f"]]);
        let mut s = sub.scheduler();
        assert_eq!(s.ready(), ["a", "e"]);
        assert_eq!(s.complete(&"a", false), ["f"]);
    }
}
