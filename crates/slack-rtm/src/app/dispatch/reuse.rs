//! The fallback's future in a box kept for the next request (per thread): most requests of an
//! app without listeners for them end in the fallback, and its future, boxed (its type is the
//! app's), was an allocation per request.

use crate::app::middleware::ListenerResult;
use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

/// The fallback's boxed future ([`super::Ending`]): given back once it returned
/// ([`Step::recycle`]), so that its box serves the next one.
pub(crate) trait Step: Send {
    /// Polls the future (not again once it returned).
    fn poll_step(&mut self, cx: &mut TaskContext<'_>) -> Poll<ListenerResult>;
    /// The future returned: its box is kept for the next.
    fn recycle(self: Box<Self>);
}

/// A future in a box that outlives it: emptied in place once it returned, then kept in the
/// thread's spare for the next future of the same type.
struct Reusable<F>(Pin<Box<Option<F>>>);

thread_local! {
    /// One spare per thread (of whichever type came last; another type takes a new box). A
    /// `Cell`: taken and put back whole, with no borrow flag to check and set each time.
    static SPARE: Cell<Option<Box<dyn Any>>> = const { Cell::new(None) };
}

impl<F: Future<Output = ListenerResult> + Send + 'static> Step for Reusable<F> {
    fn poll_step(&mut self, cx: &mut TaskContext<'_>) -> Poll<ListenerResult> {
        match self.0.as_mut().as_pin_mut() {
            Some(f) => f.poll(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn recycle(mut self: Box<Self>) {
        // Dropped in place (a panic in its drop is the poll's that called this).
        self.0.set(None);
        // The spare is empty unless a future of another type took a new box meanwhile: the
        // box kept is this one, and that spare (if any) is dropped.
        let _ = SPARE.try_with(|spare| drop(spare.replace(Some(self))));
    }
}

/// `future` in the thread's spare box when it is one of this type, else in a new one.
pub(crate) fn boxed<F: Future<Output = ListenerResult> + Send + 'static>(future: F) -> Box<dyn Step> {
    let spare = SPARE.try_with(Cell::take).ok().flatten();
    match spare.map(|b| b.downcast::<Reusable<F>>()) {
        Some(Ok(mut reused)) => {
            reused.0.set(Some(future));
            reused
        }
        _ => Box::new(Reusable(Box::pin(Some(future)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done() -> impl Future<Output = ListenerResult> + Send + 'static {
        std::future::ready(Ok(()))
    }

    fn run(mut step: Box<dyn Step>) {
        let mut cx = TaskContext::from_waker(std::task::Waker::noop());
        assert!(matches!(step.poll_step(&mut cx), Poll::Ready(Ok(()))));
        step.recycle();
    }

    #[test]
    fn a_returned_future_leaves_its_box_for_the_next_of_its_type() {
        SPARE.with(Cell::take);
        let first = boxed(done());
        let at = std::ptr::from_ref::<dyn Step>(&*first).cast::<u8>();
        run(first);
        let second = boxed(done());
        assert_eq!(std::ptr::from_ref::<dyn Step>(&*second).cast::<u8>(), at, "the same box");
        // Taken: a future made meanwhile gets a box of its own.
        let third = boxed(done());
        assert_ne!(std::ptr::from_ref::<dyn Step>(&*third).cast::<u8>(), at);
        run(second);
        run(third);
    }

    #[test]
    fn the_box_given_back_last_is_the_one_kept() {
        SPARE.with(Cell::take);
        let first = boxed(done());
        let second = boxed(done());
        let at_second = std::ptr::from_ref::<dyn Step>(&*second).cast::<u8>();
        run(first);
        // The spare holds the first box: the second replaces it (the first is freed).
        run(second);
        let next = boxed(done());
        assert_eq!(std::ptr::from_ref::<dyn Step>(&*next).cast::<u8>(), at_second);
        // And the spare is empty while its box is out: one box is kept per thread at most.
        assert!(SPARE.with(|s| {
            let spare = s.take();
            let empty = spare.is_none();
            s.set(spare);
            empty
        }));
        run(next);
    }

    #[test]
    fn a_future_of_another_type_takes_a_new_box_and_the_spare_is_emptied_in_place() {
        SPARE.with(Cell::take);
        let dropped = std::sync::Arc::new(());
        let held = dropped.clone();
        let first = boxed(async move {
            let _held = held;
            Ok(())
        });
        run(first);
        // What the future held went with it when it returned, not when its box is reused.
        assert_eq!(std::sync::Arc::strong_count(&dropped), 1);
        let other = boxed(std::future::ready(Ok(())));
        run(other);
    }
}
