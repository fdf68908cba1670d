//! Run: Train, Pause/Resume (one button whose name follows the state), Step, Reset,
//! the progress bar, and the note that changed settings need a restart.

use yew::prelude::*;

use super::context::Ctx;
use super::state::{Action, RunStatus, STEP_CHUNK};

#[component]
pub fn RunControls() -> Html {
    let ctx = use_context::<Ctx>().expect("context");
    let s = ctx.state.borrow();
    let status = s.status;
    let (pause_label, pause_title) = if status == RunStatus::Paused {
        ("Resume", "Continue training (Space)")
    } else {
        ("Pause", "Pause training (Space)")
    };
    let can_pause = matches!(status, RunStatus::Running | RunStatus::Paused);
    let (done, total) = s.frame.as_ref().map(|f| (f.snapshot.step, f.snapshot.total_steps)).unwrap_or((0, 0));
    let pending = s.pending_changes();

    html! {
        <div class="runbar">
            <div class="buttons run-buttons">
                <button type="button" class="primary" onclick={ctx.dispatcher(Action::Train)}
                    title="Start a new fit with the current data and settings (Space when idle)">{"Train"}</button>
                <button type="button" onclick={ctx.dispatcher(Action::TogglePause)} disabled={!can_pause} title={pause_title}>{pause_label}</button>
                <button type="button" onclick={ctx.dispatcher(Action::Step)} disabled={status == RunStatus::Finished}
                    title={format!("Advance {STEP_CHUNK} steps while paused (S)")}>{"Step"}</button>
                <button type="button" onclick={ctx.dispatcher(Action::Reset)} title="Stop and clear the fit (R)">{"Reset"}</button>
            </div>
            <div class="progress">
                <label for="progress">{"Progress"}</label>
                <progress id="progress" max={total.max(1).to_string()} value={done.to_string()}></progress>
            </div>
            if !pending.is_empty() {
                <p class="notice" role="note">
                    {format!("Changed since this fit started: {}. ", pending.join(", "))}
                    <button type="button" class="link" onclick={ctx.dispatcher(Action::Train)}>{"Restart with the new settings"}</button>
                </p>
            }
        </div>
    }
}
