DROP TABLE referrals;
DROP TABLE communes;
