UPDATE "Note"
SET "wordCount" = length(trim("body")) - length(replace(trim("body"), ' ', '')) + 1
WHERE trim("body") <> '';
