DROP TABLE IF EXISTS domain_calendar;
