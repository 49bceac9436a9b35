//! The toolkit every domain builds its GraphQL with: the request context, guards, ids,
//! pagination, cost figures, the viewer's event stream and error responses. It names no domain;
//! the schema is assembled from the domains' roots in `schema`.

pub mod context;
pub mod cost;
pub mod events;
pub mod extension;
pub mod guards;
pub mod ids;
pub mod money;
pub mod naming;
pub mod order;
pub mod pagination;
pub mod response;

pub use events::{viewer_events, viewer_events_on, SessionCheck, ViewerEvents};
pub use money::Vnd;
