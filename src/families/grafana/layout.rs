//! Building blocks of the dashboards: a row-by-row layout on Grafana's grid, panels,
//! targets and threshold steps.

use super::model::{Grid, Panel, Step, Target};

/// Panels laid out row by row on Grafana's 24-column grid; ids in reading order.
#[derive(Default)]
pub struct Layout {
    pub panels: Vec<Panel>,
    y: u32,
}

impl Layout {
    pub fn new() -> Layout {
        Layout::default()
    }

    /// One row of panels of height `h`, each with its width.
    pub fn row(&mut self, h: u32, panels: Vec<(u32, Panel)>) {
        let mut x = 0;
        for (w, mut p) in panels {
            p.id = self.panels.len() as u32 + 1;
            p.grid = Grid { x, y: self.y, w, h };
            for (i, t) in p.targets.iter_mut().enumerate() {
                t.ref_id = ((b'A' + i as u8) as char).to_string();
            }
            x += w;
            self.panels.push(p);
        }
        debug_assert!(x <= 24);
        self.y += h;
    }

    /// A row header across the grid: what follows belongs to `title`.
    pub fn header(&mut self, title: &str) {
        self.row(
            1,
            vec![(
                24,
                Panel {
                    kind: "row",
                    title: title.to_owned(),
                    ..Panel::default()
                },
            )],
        );
    }
}

pub fn target(expr: impl Into<String>, legend: &'static str) -> Target {
    Target {
        ref_id: String::new(),
        expr: expr.into(),
        legend,
        exemplar: false,
    }
}

/// A target whose exemplars link to traces.
pub fn with_exemplars(mut t: Target) -> Target {
    t.exemplar = true;
    t
}

pub fn green() -> Step {
    Step {
        color: "green",
        value: None,
    }
}

/// Red at and above `v`.
pub fn red_above(v: f64) -> Vec<Step> {
    vec![
        green(),
        Step {
            color: "red",
            value: Some(v),
        },
    ]
}

/// Red below `v`.
pub fn red_below(v: f64) -> Vec<Step> {
    vec![
        Step {
            color: "red",
            value: None,
        },
        Step {
            color: "green",
            value: Some(v),
        },
    ]
}

pub fn panel(kind: &'static str, title: &str, unit: &'static str, targets: Vec<Target>) -> Panel {
    Panel {
        kind,
        title: title.to_owned(),
        unit,
        targets,
        thresholds: vec![green()],
        ..Panel::default()
    }
}
