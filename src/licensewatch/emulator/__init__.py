"""A faithful offline Microsoft cloud: the Entra token endpoint and the Graph v1.0 subset we use."""
