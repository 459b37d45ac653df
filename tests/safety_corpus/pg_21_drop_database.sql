DROP DATABASE "scratch";
