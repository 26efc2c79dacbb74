//! The shared harness (`cutout_testkit::app`), under the name these tests have always used.

pub use cutout_testkit::app::*;
pub use cutout_testkit::fixtures::PERSON;
