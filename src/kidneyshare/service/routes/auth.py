"""Signing in: a password for a short-lived token; who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from kidneyshare.registry.accounts import find_user, get_user
from kidneyshare.service.deps import Caller, State
from kidneyshare.service.schemas.accounts import TokenPublic, UserPublic
from kidneyshare.service.security import issue_access_token, verify_password

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenPublic)
def sign_in(state: State, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenPublic:
    """Exchange a username and password for an access token (OAuth2 password flow)."""
    with state.sessions() as session:
        user = find_user(session, form.username)
        hashed = None if user is None else user.password_hash
        if not verify_password(hashed, form.password) or user is None or not user.active:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "wrong username or password",
                headers={"WWW-Authenticate": "Bearer"},
            )
        token = issue_access_token(user.id, state.signing_key, state.access_token_minutes)
    return TokenPublic(access_token=token.token, expires_in=token.expires_in)


@router.get("/me", response_model=UserPublic)
def who_am_i(state: State, caller: Caller) -> UserPublic:
    with state.sessions() as session:
        assert caller.user_id is not None  # a signed-in user
        return UserPublic.model_validate(get_user(session, caller.user_id))
