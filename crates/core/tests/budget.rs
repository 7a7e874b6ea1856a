//! A run cut short by its event budget says so wherever it is read: the playground reads
//! `Simulation::checks`, the CLI reads `run_validated`'s report, and both carry a failing
//! `event-budget` verdict (the page used to show green checks and a disabled Play button).
#![cfg(not(target_arch = "wasm32"))]

use sdlab_core::catalog::CATALOG;
use sdlab_core::system::{run_validated, BuildOptions};

#[test]
fn the_page_and_the_cli_agree_on_a_run_that_ran_out_of_events() {
    for def in CATALOG {
        let s = sdlab_core::run::open(&def.default_spec()).unwrap();
        let full = run_validated(&s, &BuildOptions::default()).unwrap();
        assert!(!full.checks.iter().any(|c| c.name == "event-budget"), "{}: the default run fits its budget", def.id);
        // Half the events the default run needs: every system runs out, however light.
        let budget = full.events / 2;
        let opts = BuildOptions { budget, ..BuildOptions::default() };
        let mut sim = s.build(&opts).unwrap();
        sim.run_to_end();
        let page = sim.checks();
        let said = format!("{budget} events");
        let cut = page.iter().find(|c| c.name == "event-budget");
        assert!(cut.is_some_and(|c| !c.ok && c.detail.contains(&said)), "{}: {page:?}", def.id);
        let cli = run_validated(&s, &opts).unwrap();
        let names = |v: &[sdlab_core::check::CheckResult]| v.iter().map(|c| (c.name.clone(), c.ok)).collect::<Vec<_>>();
        assert_eq!(names(&cli.checks), names(&page), "{}", def.id);
        assert!(!cli.all_ok());
    }
}
