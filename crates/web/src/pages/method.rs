//! `#/method`: how to work through a system-design interview, step by step, with each step
//! pointing at the system pages where a reader can practise it against a running model.
//!
//! The guide is Markdown rendered by [`crate::markdown`], so it gets the same heading ids and
//! link rules as the explainers. The "practise it" links are data, not prose: a link is only
//! written when its system is in the catalog, so the page never points at a missing system
//! and picks up new ones (the distributed cache, say) as soon as they land in the catalog.

use crate::markdown;
use sdlab_core::catalog::{self, CATALOG};
use yew::prelude::*;

/// One step of the method: its heading, its advice, and where to try it.
pub struct Step {
    pub title: &'static str,
    pub advice: &'static str,
    /// (system id, explainer section to read, what to look for there).
    pub practise: &'static [(&'static str, &'static str, &'static str)],
}

pub const STEPS: &[Step] = &[
    Step {
        title: "1. Clarify the requirements",
        advice: "The question is vague on purpose. Spend the first five minutes turning it into a \
short list you can design against. Split it in two. **Functional** requirements are what a user \
can do: create a short link, follow it, see a click count. **Non-functional** ones are the \
qualities that shape the architecture: how many users, how much data, how fast, how available, \
how consistent. Ask for numbers, and when the interviewer hands the question back to you, propose \
them yourself (\"say 100 million new links a month, read 100 times each\") and write them down.\n\n\
Two questions pay off in almost every problem: *what may never go wrong* (a double charge, two \
holders of one lock, one short id for two URLs) and *what may degrade* (a stale count, a slower \
page). The first list becomes your invariants; the second tells you where you may cut corners.",
        practise: &[
            ("url-shortener", "Requirements", "a read-heavy service whose one hard rule is that an id is never reused"),
            (
                "rate-limiter",
                "Requirements",
                "a latency budget under a millisecond and an explicit fail-open or fail-closed choice",
            ),
        ],
    },
    Step {
        title: "2. Define the scope and size it",
        advice: "Say out loud what you will leave out (custom aliases, analytics, multi-region), so the \
interviewer can steer you before you spend twenty minutes on the wrong part. Then do the back of the \
envelope: requests per second on average and at peak, bytes per record, storage over the retention \
period, bandwidth. Round hard — one significant figure is plenty — and keep the arithmetic on the \
board where it can be checked. The point is not the number but the consequence: 40 writes a second \
fits on one database; 40 000 reads a second at peak does not, and now you know a cache or replicas \
will appear in the design.",
        practise: &[
            (
                "distributed-lock",
                "Scope",
                "one lock and a handful of workers, with fairness and lock queues ruled out up front",
            ),
            (
                "url-shortener",
                "Trade-offs (back of the envelope)",
                "traffic, storage and id-length numbers; move the sliders and watch them change",
            ),
        ],
    },
    Step {
        title: "3. Sketch the high-level design",
        advice: "Draw the path of one request from the client to the data and back: load balancer, \
stateless service, cache, storage, any queue or background worker. Name what each box stores and \
who talks to whom. Keep it to five or six boxes; a diagram that needs a legend is too detailed for \
this stage. Walk both the main write and the main read through it, and check them against your \
requirements: does every functional requirement have a path, and does the expected load fit the \
boxes you drew?",
        practise: &[
            ("url-shortener", "High-level design", "API servers, KV shards, per-server caches and a ticket service"),
            (
                "rate-limiter",
                "High-level design",
                "client, gateway and a single-threaded store, with 429 and 503 as answers",
            ),
        ],
    },
    Step {
        title: "4. Deep dive into the components that matter",
        advice: "You will not have time to detail everything, so pick the one or two parts where the \
problem is actually hard, and say why you picked them. For a URL shortener that is id generation; \
for a lock it is what happens when the holder stalls; for a cache it is what happens when a node \
dies. Go down to data structures, message formats and failure handling. Compare at least two \
approaches and show where the simpler one breaks — this is where an interviewer learns whether you \
understand the problem or have memorised an answer.",
        practise: &[
            ("distributed-lock", "Deep dive", "why a lease alone loses updates, and how fencing tokens stop it"),
            (
                "url-shortener",
                "Deep dive: making ids",
                "hashes, random ids, counter blocks and Snowflake, each with its failure mode",
            ),
            ("distributed-cache", "Deep dive", "consistent hashing and what moves when a node joins or leaves"),
        ],
    },
    Step {
        title: "5. Find the bottlenecks",
        advice: "Push the design until something gives. Where does load concentrate — a hot key, a \
single leader, one shard that owns the viral item? What is the slowest step on the hot path, and \
how many of them does a request make? What happens when a node crashes, a network link is cut, or \
a clock jumps? For each bottleneck, name the fix and its cost: a cache absorbs a hot key but serves \
stale data, sharding spreads many keys but never one key, replication adds reads but slows writes.",
        practise: &[
            (
                "url-shortener",
                "Bottlenecks",
                "one viral link swamping one shard, and a small cache taking the load off it",
            ),
            ("rate-limiter", "Bottlenecks", "the store as a single point on every request's path"),
            ("distributed-cache", "Bottlenecks", "a hot key and a cold cache after a node restart"),
        ],
    },
    Step {
        title: "6. State the trade-offs",
        advice: "Every choice you made has a price; say what it is before you are asked. Consistency \
against availability during a partition, latency against exactness, memory against accuracy, \
simplicity against resilience. The useful form is conditional: \"if this limit protects a login \
page, fail closed; if it protects a read API from overload, fail open\". Tie each trade-off back to \
a requirement from step 1, which is why you wrote them down.",
        practise: &[
            ("rate-limiter", "Trade-offs", "fail open or closed, per-key or global, exact or cheap"),
            ("distributed-lock", "Trade-offs", "short or long leases, and Redlock against a consensus-backed lock"),
        ],
    },
    Step {
        title: "7. Answer the follow-up questions",
        advice: "Interviewers probe with \"what if\": what if a node fails, what if two requests race, \
what if the clock is wrong. Answer with the mechanism, then the failure it prevents, then its cost. \
Each system page lists the usual follow-ups with a **▶ Show me** link that loads a scenario where \
you can watch the naive design break and the robust one hold — the best way to make the answer \
stick.",
        practise: &[
            ("distributed-lock", "Follow-up questions", "deadlocks, ownership and a crashed lock server"),
            ("rate-limiter", "Follow-up questions", "limits across many servers and races between gateways"),
        ],
    },
];

/// Mistakes that cost candidates the most, in our experience of the format.
pub const PITFALLS: &str = "## Pitfalls to avoid\n\n\
- **Designing before asking.** Ten minutes into a design for the wrong scale is hard to recover from.\n\
- **Naming products instead of mechanisms.** \"Use Kafka\" says little; \"an ordered, replicated log \
that consumers read at their own pace\" says what you rely on.\n\
- **Silent numbers.** An estimate nobody can check is a guess. Write the arithmetic down.\n\
- **Ignoring failure.** Every box can crash and every arrow can be cut. A design that only works \
when nothing fails is half a design.\n\
- **Trusting clocks and checks done earlier.** A lease on another machine's clock, or a read \
followed by a write, leaves a gap; fencing tokens and atomic operations close it.\n\
- **One right answer.** There is none. Offer two options, pick one for a stated reason, and \
change your mind gracefully when the interviewer adds a constraint.\n\
- **Running out of time in the diagram.** Watch the clock: roughly 5 minutes on requirements, 5 on \
scope and numbers, 10 on the high-level design, 15 on the deep dive and 10 on bottlenecks, \
trade-offs and questions.\n";

/// The guide as Markdown, with practise links only for systems in the catalog.
pub fn guide_markdown() -> String {
    let mut md = String::from(
        "A system-design interview is a conversation about a vague problem under a clock. Nobody \
expects a finished architecture in 45 minutes; the interviewer watches how you narrow the problem, \
how you reason about scale and failure, and whether you can explain what your choices cost. The \
seven steps below give the conversation a shape. Each one links to a system in this lab where you \
can practise it on a running simulation rather than a static diagram.\n\n",
    );
    for step in STEPS {
        md.push_str(&format!("## {}\n\n{}\n\n", step.title, step.advice));
        let links: Vec<String> = step
            .practise
            .iter()
            .filter_map(|(id, section, what)| {
                let def = catalog::find(id)?;
                Some(format!("- [{}](#/s/{id}) — see *{section}*: {what}.\n", def.title))
            })
            .collect();
        if !links.is_empty() {
            md.push_str("**Practise it:**\n\n");
            md.extend(links);
            md.push('\n');
        }
    }
    md.push_str(PITFALLS);
    md.push_str("\n## Systems to practise on\n\n");
    for def in CATALOG {
        md.push_str(&format!("- [{}](#/s/{}) — {}\n", def.title, def.id, def.question));
    }
    md
}

#[component]
pub fn MethodPage() -> Html {
    let body = use_memo((), |_| markdown::render(&guide_markdown(), ""));
    html! {
        <section class="method docs" data-testid="method">
            <h1>{ "How to approach a system-design interview" }</h1>
            { (*body).clone() }
            <p class="hint"><a href="#/">{ "Back to the catalog" }</a></p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_can_be_practised_on_a_catalog_system() {
        for step in STEPS {
            assert!(
                step.practise.iter().any(|(id, _, _)| catalog::find(id).is_some()),
                "{}: no practise link to a system in the catalog",
                step.title
            );
        }
    }

    #[test]
    fn the_guide_links_only_to_catalog_systems_and_lists_all_of_them() {
        let md = guide_markdown();
        for def in CATALOG {
            assert!(md.contains(&format!("(#/s/{})", def.id)), "{} is not listed", def.id);
        }
        for part in md.split("(#/s/").skip(1) {
            let id = part.split(')').next().unwrap_or_default();
            assert!(catalog::find(id).is_some(), "link to {id}, which is not in the catalog");
        }
    }

    #[test]
    fn the_guide_is_substantial_but_readable() {
        // The advice itself; the closing list grows by one line per system in the catalog.
        let md = guide_markdown();
        let advice = md.split("## Systems to practise on").next().unwrap_or_default();
        let words = advice.split_whitespace().count();
        assert!((700..=1_600).contains(&words), "{words} words of advice");
    }
}
