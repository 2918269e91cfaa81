"""Tests of the feed scenario family."""
