"""Administration services: put layers and lists in place, and build the in-memory locator from them."""
