//! Redis and Redis Cluster stores (in progress).
