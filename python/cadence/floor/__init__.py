"""Floor (turn-taking): who owns the conversational floor, every 10 ms, from raw audio."""
