INSERT INTO "TaxRate" ("id", "country", "category", "rate", "validFrom") VALUES
    ('tax_de_std', 'DE', 'standard', 0.190, '2021-01-01'),
    ('tax_de_red', 'DE', 'reduced',  0.070, '2021-01-01'),
    ('tax_at_std', 'AT', 'standard', 0.200, '2021-01-01'),
    ('tax_at_red', 'AT', 'reduced',  0.100, '2021-01-01'),
    ('tax_nl_std', 'NL', 'standard', 0.210, '2021-01-01'),
    ('tax_nl_red', 'NL', 'reduced',  0.090, '2021-01-01');
