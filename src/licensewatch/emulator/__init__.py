"""A faithful offline Microsoft cloud: Entra token endpoint and the Graph v1.0 subset licensewatch uses."""
